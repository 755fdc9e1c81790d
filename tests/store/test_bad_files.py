"""`otacm mock --store sqlite:FILE` on a file that cannot be a sandbox: exit 2 with what is wrong, before serving."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from contracts.cli import main
from mockserver.store import open_store
from mockserver.store.sqlite import APPLICATION_ID
from store_engines import durable_url, store, store_url  # noqa: F401, F811 (pytest fixtures)


def run(store: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["mock", "--port", "0", "--store", store])
    return code, capsys.readouterr().err


def test_a_file_that_is_not_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database, just notes\n" * 100)
    code, err = run(f"sqlite:{path}", capsys)
    assert code == 2 and f"{path} is not an otacm sandbox file" in err and "name a new file" in err


def test_an_sqlite_file_of_another_program(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "app.db"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE users (name TEXT)")
    code, err = run(f"sqlite:{path}", capsys)
    assert code == 2 and "an SQLite file of another program, not an otacm sandbox" in err
    with sqlite3.connect(path) as db:  # and it was left alone
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("users",)]


def test_a_sandbox_from_a_newer_otacm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sandbox.db"
    open_store(f"sqlite:{path}").close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA user_version = 999")
    code, err = run(f"sqlite:{path}", capsys)
    assert code == 2 and "written by a newer otacm (schema 999" in err and "upgrade otacm" in err


def test_a_folder_or_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(f"sqlite:{tmp_path}", capsys)
    assert code == 2 and "is a directory; name a file" in err
    code, err = run(f"sqlite:{tmp_path / 'nowhere' / 'sandbox.db'}", capsys)
    assert code == 2 and "does not exist; create it" in err


def test_a_file_another_sandbox_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sandbox.db"
    held = open_store(f"sqlite:{path}")
    try:
        code, err = run(f"sqlite:{path}", capsys)
    finally:
        held.close()
    assert code == 2 and "in use by another otacm mock" in err


def test_an_unknown_store_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run("redis://localhost", capsys)
    assert code == 2 and "unknown store 'redis://localhost': use memory, or sqlite:PATH" in err


def test_a_new_file_is_marked_as_a_sandbox(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    open_store(f"sqlite:{path}").close()
    with closing(sqlite3.connect(path)) as db, db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 1
