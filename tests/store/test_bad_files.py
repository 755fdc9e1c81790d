"""`otacm mock --store URL` on a store that cannot be a sandbox: exit 2 with what is wrong, on one line, before serving.

SQLite: a file that is not a sandbox. PostgreSQL: a server not there, a bad
URL or password, a database from a newer otacm; --workers on a store one process holds.
"""

from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import pytest

from contracts.cli import main
from mockserver.store import open_store
from mockserver.store.sqlite import APPLICATION_ID
from postgresql_server import PASSWORD, free_port
from store_engines import POSTGRESQL, durable_url, store, store_url  # noqa: F401, F811 (pytest fixtures)


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


# -- PostgreSQL ---------------------------------------------------------------------
def one_line_naming(err: str, url: str) -> bool:
    """The error is one line, names the URL with its password masked, and shows no password."""
    return err.count("\n") == 1 and url.replace(PASSWORD, "***") in err and PASSWORD not in err


def test_a_postgresql_server_that_is_not_there(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://otacm:{PASSWORD}@127.0.0.1:{free_port()}/sandbox"
    code, err = run(url, capsys)
    assert code == 2 and one_line_naming(err, url) and "Connection refused" in err
    assert "is the server running, and are the host and port right?" in err


def test_a_postgresql_url_that_is_not_one(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://otacm:{PASSWORD}@127.0.0.1:5432/sandbox?colour=blue"
    code, err = run(url, capsys)
    assert code == 2 and one_line_naming(err, url) and "is not a PostgreSQL URL" in err
    assert "write it as postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE" in err


def test_a_wrong_postgresql_password(capsys: pytest.CaptureFixture[str]) -> None:
    url = POSTGRESQL.database().replace(PASSWORD, "not-the-password")
    code, err = run(url, capsys)
    assert code == 2 and err.count("\n") == 1 and "not-the-password" not in err and ":***@" in err
    assert "password authentication failed" in err and "check the user and password" in err


def test_a_postgresql_database_that_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    url = POSTGRESQL.database().rpartition("/")[0] + "/no_such_sandbox"
    code, err = run(url, capsys)
    assert code == 2 and one_line_naming(err, url) and '"no_such_sandbox" does not exist' in err
    assert "create it" in err


def test_a_postgresql_sandbox_from_a_newer_otacm(capsys: pytest.CaptureFixture[str]) -> None:
    url = POSTGRESQL.database()
    open_store(url).close()
    POSTGRESQL.server.sql("INSERT INTO otacm.schema_version (version) VALUES (999)", url.rpartition("/")[2])
    code, err = run(url, capsys)
    assert code == 2 and one_line_naming(err, url)
    assert "written by a newer otacm (schema 999" in err and "upgrade otacm" in err


def test_workers_need_a_store_every_worker_shares(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Several processes are one sandbox only on PostgreSQL: the others are refused before anything is served."""
    for url, why in (("memory", "the memory store lives in one process"),
                     (f"sqlite:{tmp_path / 'sandbox.db'}", "an SQLite file is one process's")):
        code = main(["mock", "--port", "0", "--store", url, "--workers", "2"])
        err = capsys.readouterr().err
        assert code == 2 and why in err and "--store postgresql://USER@HOST:PORT/DATABASE, or --workers 1" in err
    code = main(["mock", "--port", "0", "--workers", "0"])
    assert code == 2 and "--workers 0: give 1 or more worker processes" in capsys.readouterr().err


def test_a_postgresql_schema_otacm_that_is_not_ours(capsys: pytest.CaptureFixture[str]) -> None:
    url = POSTGRESQL.database()
    POSTGRESQL.server.sql("CREATE SCHEMA otacm", url.rpartition("/")[2])
    code, err = run(url, capsys)
    assert code == 2 and one_line_naming(err, url) and "has a schema `otacm` that is not an otacm sandbox's" in err


def test_postgresql_without_its_driver_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if `pip install otacm` without the extra
    monkeypatch.delitem(sys.modules, "mockserver.store.postgresql", raising=False)
    monkeypatch.delattr("mockserver.store.postgresql", raising=False)
    code, err = run(f"postgresql://otacm:{PASSWORD}@127.0.0.1:5432/sandbox", capsys)
    assert code == 2 and err.count("\n") == 1 and PASSWORD not in err
    assert "PostgreSQL needs psycopg (pip install 'otacm[postgresql]')" in err
