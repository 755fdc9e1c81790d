"""A self-contained HTML page of an `otacm verify` run, for a CI artifact a QA engineer opens.

The markup lives in `templates/report.html.j2` (shipped inside the package,
so an installed wheel renders it too); this module only prepares what the
template shows. Autoescape is on because messages quote what the target
answered, which may contain markup.
"""

from __future__ import annotations

import jinja2

from contracts.reports.common import (
    check_rows,
    coverage_figure,
    coverage_rows,
    divergence_label,
    key_export,
    run_facts,
    skip_groups,
    verdict_counts,
)
from contracts.verify.results import EXIT_OK, EXIT_VIOLATION, Report

TEMPLATE = "report.html.j2"


def html_page(report: Report) -> str:
    """The page as one string (UTF-8 when written)."""
    return _environment().get_template(TEMPLATE).render(
        report=report,
        facts=run_facts(report),
        headline_class=_headline_class(report.exit_code),
        counts=verdict_counts(report),
        rows=check_rows(report),
        skips=skip_groups(report),
        coverage=coverage_rows(report),
        key_export=key_export(report),
    )


def _environment() -> jinja2.Environment:
    """A fresh environment per render: cheap, and no module-level state to share between runs."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("contracts.reports", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    environment.filters["divergence"] = divergence_label
    environment.filters["figure"] = coverage_figure
    return environment


def _headline_class(exit_code: int) -> str:
    if exit_code == EXIT_OK:
        return "ok"
    return "bad" if exit_code == EXIT_VIOLATION else "err"
