"""Where an API lives: the server root and the base `{server}/{tenant}/{environment}/{company}`.

Two names, never mixed up:
- the **server root** (`http://127.0.0.1:8080`, or `https://host/prefix`): where
  the paths of the spec start;
- the **base** (`{server}/{tenant}/{environment}/{company}`): what `otacm mock`
  prints as "base URL" and the docs call the base URL.

`parse_address` takes what a person pastes into `--base-url`: the full base
(company encoded as `%20`, `+` or the docs' `%2520`) or a server root with the
three segments given apart. Anything else is an `AddressError` that shows both
forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, unquote_plus, urlsplit, urlunsplit

FORMS = (
    "  --base-url http://127.0.0.1:8080/<tenant>/<environment>/<company>   (the full base, as `otacm mock` prints it)\n"
    "  --base-url http://127.0.0.1:8080 --tenant T --environment E --company C   (the server root and the three segments)"
)


class AddressError(ValueError):
    """The address cannot be read one way only; the message says why and shows both forms."""


@dataclass(frozen=True)
class Address:
    server: str  # the server root, no trailing slash
    tenant: str
    environment: str
    company: str  # unencoded ("CRONUS International Ltd.")

    @property
    def base(self) -> str:
        """`{server}/{tenant}/{environment}/{company}`, each segment URL-encoded once."""
        segments = (self.tenant, self.environment, self.company)
        return self.server + "".join("/" + quote(s, safe="") for s in segments)

    def url(self, path_template: str, params: dict[str, str]) -> str:
        """A spec path (`/{tenant}/.../channelManager/{orderId}`) filled in: the one way URLs are built."""
        values = {"tenant": self.tenant, "environment": self.environment, "company": self.company, **params}

        def fill(found: re.Match[str]) -> str:
            name = found.group(1)
            if name not in values:
                raise KeyError(f"path parameter {name!r} is missing")
            return quote(str(values[name]), safe="")

        return self.server + re.sub(r"\{(\w+)\}", fill, path_template)


def decode_company(segment: str) -> str:
    """The company as the server reads it: `%20`, `+` and the docs' double encoding `%2520` alike."""
    return unquote_plus(unquote(segment))


def parse_address(url: str, tenant: str | None = None, environment: str | None = None,
                  company: str | None = None) -> Address | str:
    """The address `url` names, or the bare server root (a `str`) when it names no segments.

    A bare root with no segment flags is returned as a `str` so the caller can
    ask the target (an otacm mock describes itself at `/_mock/info`) or refuse.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AddressError(f"--base-url {url!r} is not an http(s) URL. Use one of:\n{FORMS}")
    if parts.query or parts.fragment:
        raise AddressError(f"--base-url {url!r} has a query or fragment; give only the address. Use one of:\n{FORMS}")
    segments = [s for s in parts.path.split("/") if s]
    flags = [tenant, environment, company]
    if all(flag is not None for flag in flags):
        root = urlunsplit((parts.scheme, parts.netloc, "/".join([""] + segments), "", ""))
        return Address(root.rstrip("/"), str(tenant), str(environment), str(company))
    if any(flag is not None for flag in flags):
        raise AddressError("--tenant, --environment and --company go together, with a server root as --base-url. "
                           f"Use one of:\n{FORMS}")
    if not segments:
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    if segments[-1].lower() in ("channelmanager", "webhook") or len(segments) < 3:
        raise AddressError(f"--base-url {url!r} is neither a server root nor a full base "
                           f"(it has {len(segments)} path segment(s)). Use one of:\n{FORMS}")
    root = urlunsplit((parts.scheme, parts.netloc, "/".join([""] + segments[:-3]), "", "")).rstrip("/")
    return Address(root, unquote(segments[-3]), unquote(segments[-2]), decode_company(segments[-1]))
