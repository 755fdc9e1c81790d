"""The wheel carries the spec, and an installed package finds it without the repo.

Offline and fast: the wheel is built with the `hatchling` of this environment
(`--no-build-isolation`) and installed with `--no-deps --target` into a temp
folder, which is put first on `PYTHONPATH` for a subprocess run outside the
repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SPEC_IN_WHEEL = "contracts/_data/openapi/channel-manager.yaml"


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=240, **kwargs)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling", reason="hatchling (test extra) builds the wheel offline")
    out = tmp_path_factory.mktemp("dist")
    _run([
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--quiet", "--wheel-dir", str(out), str(REPO_ROOT),
    ])
    wheels = list(out.glob("otacm-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_carries_the_spec_and_both_packages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert SPEC_IN_WHEEL in names
        assert archive.read(SPEC_IN_WHEEL) == (REPO_ROOT / "openapi" / "channel-manager.yaml").read_bytes()
        assert {"contracts/__init__.py", "contracts/spec.py", "contracts/cli/__init__.py", "mockserver/__init__.py"} <= names
        assert {"mockserver/control/templates/dashboard.html", "mockserver/control/templates/_orders.html",
                "mockserver/control/static/dashboard.js", "mockserver/control/static/dashboard.css"} <= names
        assert {"mockserver/store/sql/0001_sqlite_initial.sql", "mockserver/store/sql/sqlite_queries.sql"} <= names
        entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
        assert "otacm = contracts.cli:main" in archive.read(entry_points).decode()


def test_installed_package_finds_its_spec_without_the_repo(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    _run([
        sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
        "--target", str(target), str(wheel),
    ])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = (
        "import mockserver, contracts\n"
        "from contracts.spec import spec_path, load_spec\n"
        "print(contracts.__file__)\n"
        "print(spec_path())\n"
        "assert load_spec().operations['createOrder'].method == 'POST'\n"
    )
    lines = _run([sys.executable, "-c", probe], cwd=elsewhere, env=env).stdout.splitlines()
    package_file, spec_file = Path(lines[0]).resolve(), Path(lines[1]).resolve()
    assert target.resolve() in package_file.parents, f"imported {package_file}, not the installed copy"
    assert spec_file == (target / SPEC_IN_WHEEL).resolve()
    assert REPO_ROOT not in spec_file.parents

    # `otacm --help` and `otacm spec` as the console script runs them
    help_text = _run([sys.executable, "-m", "contracts.cli", "--help"], cwd=elsewhere, env=env).stdout
    assert "usage: otacm" in help_text
    printed = _run([sys.executable, "-m", "contracts.cli", "spec"], cwd=elsewhere, env=env).stdout.strip()
    assert Path(printed).resolve() == spec_file


def test_installed_package_renders_the_html_report_from_its_template(wheel: Path, tmp_path: Path) -> None:
    """The report's Jinja2 template is a package file: it must ship in the wheel and load from there."""
    with zipfile.ZipFile(wheel) as archive:
        assert "contracts/reports/templates/report.html.j2" in archive.namelist()
    target = tmp_path / "site"
    _run([
        sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
        "--target", str(target), str(wheel),
    ])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import contracts.reports as reports\n"
        "from contracts.verify.results import Outcome, Report\n"
        "report = Report('t', False, 'documented', ['lifecycle'], [Outcome('lifecycle', 'c', 's', 'skipped', ['why'])])\n"
        "print(reports.__file__)\n"
        "print(reports.html_page(report))\n"
    )
    lines = _run([sys.executable, "-c", probe], cwd=elsewhere,
                 env={**os.environ, "PYTHONPATH": str(target)}).stdout.splitlines()
    assert target.resolve() in Path(lines[0]).resolve().parents, f"imported {lines[0]}, not the installed copy"
    assert lines[1] == "<!DOCTYPE html>" and any("why" in line for line in lines)
