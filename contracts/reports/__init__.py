"""Reports of an `otacm verify` run, one writer per format, built from `contracts.verify.results.Report` alone.

- `summary_text`: the end-of-run terminal summary (rich; plain text unless `color=True`);
- `junit_xml`: JUnit XML for CI test tabs;
- `html_page`: one self-contained page for a CI artifact;
- `markdown`: a CI job summary (`$GITHUB_STEP_SUMMARY`).

Every writer takes a `Report` and returns text; none imports the run
orchestration. `WRITERS` maps the file formats (`--junit`, `--html`,
`--markdown`) to their writer, so the CLI adds a format without branching.

Note: the `markdown` name here is the function; the module is reached with
`from contracts.reports.markdown import ...` (the import system uses the
module, attribute access on this package gives the function).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Callable, Mapping

from contracts.reports.html import html_page
from contracts.reports.junit import junit_xml
from contracts.reports.markdown import markdown
from contracts.reports.terminal import summary_text
from contracts.verify.results import Report

# read-only: a module-level mapping nobody can change at run time
WRITERS: Mapping[str, Callable[[Report], str]] = MappingProxyType(
    {"junit": junit_xml, "html": html_page, "markdown": markdown})

__all__ = ["WRITERS", "html_page", "junit_xml", "markdown", "summary_text"]
