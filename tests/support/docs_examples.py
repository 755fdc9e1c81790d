"""Read the published documentation pages the way the tests need them.

The pages live next to the repository (`<repo>/../shared/docs`, or the folder
named by `OTACM_DOCS_DIR`). Their JSON examples are extracted from the page
text here, never pasted into the tests: each code block carries the page's
line numbers glued to the start of its lines (`1{`, `2 "orderId": ...`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

ORDERS_PAGE = "000_ccc65ff7954ee74d.txt"
GETTING_STARTED_PROSE = "001_4a2e430d477b7d80.txt"
GETTING_STARTED = "002_cea509b729dae90d.txt"
WEBHOOK_PAGE = "004_3aa8ad30a29b3bcf.txt"


def docs_dir() -> Path:
    override = os.environ.get("OTACM_DOCS_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "docs"


def read_page(name: str) -> str:
    return (docs_dir() / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class CodeBlock:
    """A numbered code block of a page, line numbers stripped."""

    section: str  # the "N - Title" step heading it appears under ("" before the first)
    first_line: int  # 0-based line index in the page, for messages
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def kind(self) -> str:
        """`curl` (a request), `json` (a response or payload) or `other`."""
        head = self.lines[0].lstrip()
        if head.startswith("curl"):
            return "curl"
        if head.startswith(("{", "[")):
            return "json"
        return "other"

    @property
    def method(self) -> str | None:
        """The HTTP method of a curl block (`-X METHOD`, else GET)."""
        if self.kind != "curl":
            return None
        match = re.search(r"-X\s+([A-Z]+)", self.text)
        return match.group(1) if match else "GET"

    def json(self) -> Any:
        """The block's JSON: the whole block, or a curl block's `-d '...'` body (None if none)."""
        if self.kind == "json":
            return json.loads(self.text)
        if self.kind == "curl":
            match = re.search(r"-d '(.*)'\s*$", self.text, re.DOTALL)
            return json.loads(match.group(1)) if match else None
        raise ValueError(f"block at line {self.first_line + 1} is not JSON")


_STEP_HEADING = re.compile(r"^(\d+) - (\S.*)$")


def code_blocks(text: str) -> list[CodeBlock]:
    """Every run of lines numbered 1, 2, 3, … with the numbers stripped.

    A line belongs to the block when it starts with exactly the next number;
    the first line that does not ends the block. Step headings (`2 - Submit
    the order`) are recognised first, so they never open a block.
    """
    blocks: list[CodeBlock] = []
    section = ""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        heading = _STEP_HEADING.match(line)
        if heading:
            section = heading.group(2).strip()
            index += 1
            continue
        if not line.startswith("1") or line[1:2].isdigit():
            index += 1
            continue
        start, body, number = index, [], 1
        while index < len(lines):
            prefix = str(number)
            candidate = lines[index]
            if not candidate.startswith(prefix) or candidate[len(prefix):len(prefix) + 1].isdigit():
                break
            body.append(candidate[len(prefix):])
            number += 1
            index += 1
        blocks.append(CodeBlock(section, start, tuple(body)))
    return blocks


@dataclass(frozen=True)
class DocExample:
    """One JSON example of the docs, tied to the operation it illustrates."""

    page: str
    section: str
    role: str  # "request", "response" or "payload"
    method: str | None  # of the request the example belongs to
    value: Any

    @property
    def name(self) -> str:
        return f"{self.page} [{self.section}] {self.method or ''} {self.role}".replace("  ", " ")


def getting_started_examples() -> list[DocExample]:
    """The JSON requests and responses of docs/002, in page order.

    A response block belongs to the curl request that precedes it in its step.
    """
    examples: list[DocExample] = []
    method: str | None = None
    section: str | None = None
    for block in code_blocks(read_page(GETTING_STARTED)):
        if block.section != section:
            section, method = block.section, None
        if block.kind == "curl":
            method = block.method
            body = block.json()
            if body is not None:
                examples.append(DocExample(GETTING_STARTED, block.section, "request", method, body))
        elif block.kind == "json":
            examples.append(DocExample(GETTING_STARTED, block.section, "response", method, block.json()))
    return examples


def webhook_examples() -> list[DocExample]:
    """The JSON payload(s) of docs/004."""
    return [
        DocExample(WEBHOOK_PAGE, "Payload", "payload", "POST", block.json())
        for block in code_blocks(read_page(WEBHOOK_PAGE))
        if block.kind == "json"
    ]


def lifecycle_rows(text: str, states: list[str]) -> list[tuple[str, str]]:
    """The rows of docs/000's status lifecycle table as (status, rest of the row).

    The page text glues the cells together (`SubmittedcreateOrder / ...`); a
    row is a line that starts with a status name, right after the header line
    `StatusSet byAllowed transitions`, up to the first blank line.
    """
    lines = text.splitlines()
    start = lines.index("StatusSet byAllowed transitions") + 1
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        # longest name first, so a name that prefixes another cannot steal its row
        for state in sorted(states, key=len, reverse=True):
            if line.startswith(state):
                rows.append((state, line[len(state):]))
                break
        else:
            raise ValueError(f"lifecycle row does not start with a status name: {line!r}")
    return rows


def section_text(text: str, heading: str) -> str:
    """The prose of a page section: from the line `heading` to the next short heading line."""
    lines = text.splitlines()
    start = len(lines) - 1 - lines[::-1].index(heading)  # the body heading, not the TOC entry
    body = []
    for line in lines[start + 1:]:
        if line and len(line) < 40 and not line.startswith(("  •", "•")) and line[0].isupper() and not line.endswith("."):
            break
        body.append(line)
    return "\n".join(body)
