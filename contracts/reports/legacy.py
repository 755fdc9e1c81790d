"""Reports of an `otacm verify` run: terminal summary, JUnit XML, HTML, Markdown.

All four are built from one `VerifyReport` (contracts.verify):
- `summary_text`: the table printed at the end of a run — checks × passed /
  failed / skipped, the failures in plain words, coverage with percentages.
- `junit_xml`: one `<testsuite>` per family, one `<testcase>` per check per
  subject (operation, probe order, scenario); failures carry the messages and
  the curl command that reproduces them.
- `html_page`: one self-contained page (inline CSS, no script, no external
  resource) a QA engineer can open from a CI artifact.
- `markdown`: for a CI job summary (`$GITHUB_STEP_SUMMARY`).
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts.verify.run import CheckOutcome, VerifyReport


def _verdict(report: "VerifyReport") -> str:
    from contracts.verify.run import EXIT_CODES, EXIT_OK, EXIT_VIOLATION

    if report.exit_code == EXIT_OK:
        return "PASSED: every selected check passed"
    if report.exit_code == EXIT_VIOLATION:
        return f"FAILED: the contract was violated ({len(report.failed)} failing check(s))"
    return f"ERROR (exit {report.exit_code}): {EXIT_CODES.get(report.exit_code, '')}: {report.problem}"


def check_rows(report: "VerifyReport") -> list[tuple[str, str, int, int, int]]:
    """(family, check, passed, failed, skipped) subjects per check, in run order."""
    rows: dict[tuple[str, str], list[int]] = {}
    for outcome in report.outcomes:
        counts = rows.setdefault((outcome.family, outcome.check), [0, 0, 0])
        counts[("passed", "failed", "skipped").index(outcome.status)] += 1
    return [(family, check, *counts) for (family, check), counts in rows.items()]


def _coverage_lines(report: "VerifyReport") -> list[tuple[str, str, list[str]]]:
    lines = []
    for name, covered, total, percent, missing in report.coverage.rows():
        if total == 0:
            continue
        lines.append((name, f"{covered}/{total} ({percent:.0f}%)", missing))
    return lines


# -- terminal -------------------------------------------------------------------------------------
def summary_text(report: "VerifyReport", max_messages: int = 3) -> str:
    out: list[str] = []
    out.append("")
    out.append(f"otacm verify — {report.target} — {report.strictness} strictness"
               + (f" — seed {report.seed}" if report.seed is not None else ""))
    rows = check_rows(report)
    if rows:
        width = max(len(f"{f}/{c}") for f, c, *_ in rows)
        out.append("")
        out.append(f"  {'check'.ljust(width)}  {'passed':>6}  {'failed':>6}  {'skipped':>7}   result")
        for family, check, passed, failed, skipped in rows:
            result = "FAIL" if failed else ("skip" if not passed and skipped else "ok")
            out.append(f"  {(family + '/' + check).ljust(width)}  {passed:>6}  {failed:>6}  {skipped:>7}   {result}")
        out.append("  (counts are subjects: operations, probe orders or scenarios)")
    failed = report.failed
    if failed:
        out.append("")
        out.append("Failures:")
        for outcome in failed:
            out.append(f"  [{outcome.check}] {outcome.family}: {outcome.subject}")
            for message in outcome.messages[:max_messages]:
                for i, line in enumerate(message.splitlines()[:12]):
                    out.append(("    - " if i == 0 else "      ") + line)
            for detail in outcome.details[:1]:
                if detail.startswith("curl"):
                    out.append(f"      reproduce: {detail[:400]}")
    coverage = _coverage_lines(report)
    if coverage:
        out.append("")
        out.append("Coverage:")
        for name, figure, missing in coverage:
            out.append(f"  {name.ljust(22)} {figure}" + (f"   not covered: {', '.join(missing[:8])}"
                                                           + (" …" if len(missing) > 8 else "") if missing else ""))
    for note in report.notes:
        out.append(f"note: {note}")
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items())
    out.append("")
    out.append(f"{_verdict(report)} in {report.seconds:.1f} s" + (f" ({timing})" if timing else ""))
    return "\n".join(out)


# -- JUnit -----------------------------------------------------------------------------------------
def junit_xml(report: "VerifyReport") -> str:
    root = ET.Element("testsuites", name="otacm verify", time=f"{report.seconds:.3f}")
    families: dict[str, list["CheckOutcome"]] = {}
    for outcome in report.outcomes:
        families.setdefault(outcome.family, []).append(outcome)
    if report.problem:
        suite = ET.SubElement(root, "testsuite", name="otacm verify.target", tests="1", failures="0", errors="1",
                              skipped="0")
        case = ET.SubElement(suite, "testcase", classname="otacm verify.target", name="reach the target")
        ET.SubElement(case, "error", message=report.problem[:500], type=f"exit {report.exit_code}").text = report.problem
    for family, outcomes in families.items():
        suite = ET.SubElement(
            root, "testsuite", name=f"otacm verify.{family}", tests=str(len(outcomes)),
            failures=str(sum(o.status == "failed" for o in outcomes)), errors="0",
            skipped=str(sum(o.status == "skipped" for o in outcomes)),
            time=f"{report.timings.get(family, 0.0):.3f}",
        )
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="target", value=report.target)
        ET.SubElement(properties, "property", name="strictness", value=report.strictness)
        if report.seed is not None:
            ET.SubElement(properties, "property", name="seed", value=str(report.seed))
        for outcome in outcomes:
            case = ET.SubElement(suite, "testcase", classname=f"{family}.{outcome.check}",
                                 name=f"{outcome.check} [{outcome.subject}]")
            if outcome.status == "failed":
                text = "\n\n".join(outcome.messages + [d for d in outcome.details if d])
                first = outcome.messages[0].splitlines()[0] if outcome.messages else "failed"
                ET.SubElement(case, "failure", message=first[:500], type=outcome.check).text = text
            elif outcome.status == "skipped":
                ET.SubElement(case, "skipped", message=(outcome.messages[0] if outcome.messages else "")[:500])
            elif outcome.details:
                ET.SubElement(case, "system-out").text = "\n".join(outcome.details)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- Markdown ----------------------------------------------------------------------------------------
def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: "VerifyReport", max_failures: int = 50) -> str:
    icon = "✅" if report.exit_code == 0 else "❌"
    out = [f"## {icon} otacm verify — {_md(report.target)}", "",
           f"**{_md(_verdict(report))}** in {report.seconds:.1f} s · strictness `{report.strictness}`"
           + (f" · seed `{report.seed}`" if report.seed is not None else ""), ""]
    rows = check_rows(report)
    if rows:
        out += ["| family | check | passed | failed | skipped |", "| --- | --- | ---: | ---: | ---: |"]
        for family, check, passed, failed, skipped in rows:
            mark = " ❌" if failed else ""
            out.append(f"| {family} | `{check}`{mark} | {passed} | {failed} | {skipped} |")
        out.append("")
    coverage = _coverage_lines(report)
    if coverage:
        out += ["| coverage | covered | not covered |", "| --- | ---: | --- |"]
        for name, figure, missing in coverage:
            out.append(f"| {name} | {figure} | {_md(', '.join(missing)) or '—'} |")
        out.append("")
    if report.failed:
        out += ["### Failures", ""]
        for outcome in report.failed[:max_failures]:
            out.append(f"<details><summary><code>{html.escape(outcome.check)}</code> — "
                       f"{html.escape(outcome.family)}: {html.escape(outcome.subject)}</summary>")
            out.append("")
            out.append("```")
            out += [m for m in outcome.messages[:5]]
            out += [d for d in outcome.details[:1] if d.startswith("curl")]
            out.append("```")
            out.append("</details>")
            out.append("")
        if len(report.failed) > max_failures:
            out.append(f"… and {len(report.failed) - max_failures} more (see the HTML or JUnit report)")
    for note in report.notes:
        out.append(f"> {_md(note)}")
    return "\n".join(out) + "\n"


# -- HTML ------------------------------------------------------------------------------------------------
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .3rem}h2{font-size:1.15rem;margin:2rem 0 .6rem;border-bottom:1px solid #dde2ea;padding-bottom:.3rem}
.verdict{padding:.8rem 1rem;border-radius:6px;font-weight:600;margin:1rem 0}
.ok{background:#e6f5ea;color:#17622e}.bad{background:#fdecec;color:#8d1d1d}.err{background:#fff4e0;color:#7a4a00}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}th,td{border:1px solid #dde2ea;padding:.35rem .55rem;text-align:left;vertical-align:top}
th{background:#f4f6f9}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td.st{color:#b42318;font-weight:600}tr.passed td.st{color:#17622e}tr.skipped td.st{color:#6b7280}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f8fa;border:1px solid #e5e8ee;padding:.6rem;border-radius:4px;margin:.3rem 0;font-size:12.5px}
details{margin:.4rem 0}summary{cursor:pointer}.meta{color:#5b6474}.bar{background:#e5e8ee;border-radius:3px;height:8px;width:160px;display:inline-block;vertical-align:middle;margin-right:.5rem}
.bar span{display:block;height:8px;border-radius:3px;background:#3b82f6}code{font-size:12.5px}
"""


def html_page(report: "VerifyReport") -> str:
    e = html.escape
    klass = "ok" if report.exit_code == 0 else ("bad" if report.exit_code == 1 else "err")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>otacm verify — {e(report.target)}</title><style>{_CSS}</style></head><body>",
        f"<h1>otacm verify</h1><div class='meta'>target {e(report.target)} · strictness <b>{e(report.strictness)}</b>"
        + (f" · seed <code>{report.seed}</code>" if report.seed is not None else "")
        + f" · {report.seconds:.1f} s · families {e(', '.join(report.families))}</div>",
        f"<div class='verdict {klass}'>{e(_verdict(report))} (exit code {report.exit_code})</div>",
    ]
    rows = check_rows(report)
    if rows:
        parts.append("<h2>Checks</h2><table><thead><tr><th>family</th><th>check</th><th>passed</th><th>failed</th>"
                     "<th>skipped</th></tr></thead><tbody>")
        for family, check, passed, failed, skipped in rows:
            status = "failed" if failed else "passed"
            parts.append(f"<tr class='{status}'><td>{e(family)}</td><td class='st'><code>{e(check)}</code></td>"
                         f"<td class='n'>{passed}</td><td class='n'>{failed}</td><td class='n'>{skipped}</td></tr>")
        parts.append("</tbody></table>")
    coverage = report.coverage.rows()
    parts.append("<h2>Coverage</h2><table><thead><tr><th>what</th><th>covered</th><th>not covered</th></tr></thead><tbody>")
    for name, covered, total, percent, missing in coverage:
        if total == 0:
            continue
        parts.append(f"<tr><td>{e(name)}</td><td><span class='bar'><span style='width:{percent:.0f}%'></span></span>"
                     f"{covered}/{total} ({percent:.0f}%)</td><td>{e(', '.join(missing)) or '—'}</td></tr>")
    parts.append("</tbody></table>")
    if report.failed:
        parts.append("<h2>Failures</h2>")
        for outcome in report.failed:
            parts.append(f"<details open><summary><code>{e(outcome.check)}</code> — {e(outcome.family)}: "
                         f"{e(outcome.subject)}</summary>")
            for message in outcome.messages:
                parts.append(f"<pre>{e(message)}</pre>")
            for detail in outcome.details[:3]:
                parts.append(f"<pre>{e(detail)}</pre>")
            parts.append("</details>")
    parts.append("<h2>All results</h2><table><thead><tr><th>family</th><th>check</th><th>subject</th><th>result</th>"
                 "</tr></thead><tbody>")
    for outcome in report.outcomes:
        parts.append(f"<tr class='{outcome.status}'><td>{e(outcome.family)}</td><td><code>{e(outcome.check)}</code></td>"
                     f"<td>{e(outcome.subject)}</td><td class='st'>{e(outcome.status)}</td></tr>")
    parts.append("</tbody></table>")
    if report.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in report.notes) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
