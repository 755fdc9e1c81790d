"""Reports of an `otacm verify` run, one writer per format, built from `contracts.verify.results.Report` alone.

- `summary_text`: the end-of-run terminal summary (rich; plain text without a TTY);
- `junit_xml`: JUnit XML for CI test tabs;
- `html_page`: one self-contained page for a CI artifact;
- `markdown`: a CI job summary (`$GITHUB_STEP_SUMMARY`).

`WRITERS` maps the file formats (`--junit`, `--html`, `--markdown`) to their
writer, so the CLI adds a format without branching. The writers of the former
`VerifyReport` stay importable as `contracts.reports.legacy` until their last
caller is switched.
"""

from __future__ import annotations

from contracts.reports.html import html_page
from contracts.reports.junit import junit_xml
from contracts.reports.terminal import summary_text

__all__ = ["html_page", "junit_xml", "summary_text"]
