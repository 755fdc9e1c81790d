"""One HTTP request and its answer: what every check and failure message shows."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

KEY_HEADER = "x-np-api-key: $OTACM_API_KEY"  # in double quotes on a command line: the shell expands it


@dataclass
class Exchange:
    """A request to the target and what came back (`error` when nothing did)."""

    method: str
    url: str
    headers: dict[str, str]
    body: Any
    operation: str = ""  # the spec's operationId
    params: dict[str, str] = field(default_factory=dict)  # path parameters (orderId, partnerId)
    query: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    response: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    at: float = 0.0  # the target's clock when the answer came (epoch seconds)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def curl(self) -> str:
        """The request as a command that works when pasted into a POSIX shell.

        The key is `"$OTACM_API_KEY"` in double quotes, so the shell expands it (the report says to export it);
        every other value is shell-quoted, so a quote, a `$` or a space in a URL, header or body is sent as is.
        """
        parts = ["curl", "-X", shlex.quote(self.method), shlex.quote(self.url), f'-H "{KEY_HEADER}"']
        for key, value in self.headers.items():
            if key.lower() not in ("x-np-api-key", "authorization"):
                parts += ["-H", shlex.quote(f"{key}: {value}")]
        if self.body is not None:
            typed = any(key.lower() == "content-type" for key in self.headers)  # the request named its own
            parts += ([] if typed else ["-H", shlex.quote("Content-Type: application/json")]) + \
                ["-d", shlex.quote(json.dumps(self.body, ensure_ascii=False))]
        return " ".join(parts)

    def render(self, limit: int = 1500) -> str:
        lines = [f"    request:  {self.method} {self.url}"]
        shown = {k: v for k, v in self.headers.items() if k.lower() not in ("x-np-api-key", "authorization")}
        if shown:
            lines.append(f"              headers {json.dumps(shown)}")
        if self.body is not None:
            lines.append(f"              body {clip(json.dumps(self.body, ensure_ascii=False), limit)}")
        if self.error:
            lines.append(f"    response: none ({self.error})")
        else:
            text = self.response if isinstance(self.response, str) else json.dumps(self.response, ensure_ascii=False)
            lines.append(f"    response: {self.status} {clip(text, limit)}")
        return "\n".join(lines)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"
