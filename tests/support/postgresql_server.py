"""A real PostgreSQL server for the test session: initdb in a temporary folder, started on a free port.

Not pytest-postgresql: its process fixture runs initdb and pg_ctl as the
current user, and CI runs as root, which initdb refuses; here they run as
the `postgres` user when we are root. The server is tuned for tests only
(no fsync), listens on 127.0.0.1 and a socket in its own folder, and asks
for a password over TCP, so the tests also see auth failures and masked URLs.

`SessionServer` starts it on the first test that wants a PostgreSQL store
(a run of memory and SQLite tests starts nothing) and gives each test a new
empty database; tests/store/conftest.py drops them after each test and stops
the server at the end of the session. Without PostgreSQL installed, those
tests are skipped with the reason, never run on something else.
"""

from __future__ import annotations

import getpass
import glob
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from itertools import count
from pathlib import Path
from typing import Any, Optional

import pytest

PASSWORD = "otacm-test-secret"
BINARY_DIRS = ("/usr/lib/postgresql/*/bin",)  # Debian's layout; PATH is tried first
PREFIX = "otacm-pg-"  # the servers' folders, in the temporary directory
OWNER_FILE = "owner.pid"  # the test process that started the server


def binaries() -> Optional[Path]:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for pattern in BINARY_DIRS:
        for folder in sorted(glob.glob(pattern), key=_version, reverse=True):  # the newest version first
            if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
                return Path(folder)
    return None


def missing_reason() -> Optional[str]:
    """Why no server can be started here (None when one can): the tests that need one are skipped with it."""
    if binaries() is None:
        return ("PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin); "
                ".ci/run installs Debian's postgresql")
    if os.geteuid() == 0 and not _has_user("postgres"):
        return "running as root and there is no `postgres` user to run initdb as (initdb refuses root)"
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install -e '.[test]')"
    return None


class SessionServer:
    """The test session's server, started on first use; `database()` is a new empty database's URL."""

    def __init__(self) -> None:
        self._server: Optional[PostgreSQLServer] = None
        self._made: list[str] = []

    def database(self) -> str:
        """A new empty database (skips the test when PostgreSQL is not installed)."""
        reason = missing_reason()
        if reason is not None:
            pytest.skip(reason)
        if self._server is None:
            reap_orphans()
            server = PostgreSQLServer()
            server.start()
            self._server = server
        name = self._server.new_database()
        self._made.append(name)
        return self._server.url(name)

    @property
    def server(self) -> PostgreSQLServer:
        """The running server (a test that needs it asks for a database first)."""
        assert self._server is not None, "no PostgreSQL server started yet: call database() first"
        return self._server

    def drop_databases(self) -> None:
        """Drop the databases made since the last call (a test's stores are closed by now; FORCE ends the rest)."""
        if self._server is not None:
            for name in self._made:
                self._server.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._made.clear()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


class PostgreSQLServer:
    """One server in a folder of its own; `new_database()` gives each test an empty database."""

    def __init__(self, folder: Optional[Path] = None) -> None:
        """A new folder (start() makes and starts the server), or the folder of one already made."""
        self.bin = binaries()
        assert self.bin is not None, missing_reason()
        self.folder = folder or Path(tempfile.mkdtemp(prefix=PREFIX))
        self.data = self.folder / "data"
        self.user = "postgres" if os.geteuid() == 0 else getpass.getuser()
        self.port = free_port()
        self._numbers = count(1)

    def start(self) -> None:
        """initdb, then pg_ctl start; waits until the server accepts connections."""
        (self.folder / OWNER_FILE).write_text(str(os.getpid()), encoding="utf-8")
        password_file = self.folder / "password"
        password_file.write_text(PASSWORD + "\n", encoding="utf-8")
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(password_file, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--pwfile", str(password_file),
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
        self.resume()

    def resume(self) -> None:
        """pg_ctl start on the folder made (again after `halt`, on the same port); waits until it accepts."""
        options = (f"-k {self.folder} -p {self.port} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200")
        log = self.folder / "server.log"
        try:
            self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start")
        except RuntimeError as error:
            told = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{error}\nserver log:\n{told}") from None

    def halt(self) -> None:
        """Stop the server, keeping its folder (a database outage: `resume` starts it again); every session
        ends, as in a restart."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        """Stop at once (nothing here is worth a clean shutdown) and remove the folder."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://{self.user}:{password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """CREATE DATABASE t_<n> (from template0: empty); its name."""
        name = f"t_{next(self._numbers)}"
        self.sql(f"CREATE DATABASE {name} TEMPLATE template0")
        return name

    def sql(self, statement: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        """Run one statement as the superuser, outside any transaction; the rows it answers."""
        import psycopg  # only once the server runs: missing_reason() has checked psycopg is installed

        with psycopg.connect(self.url(database), autocommit=True) as connection:
            cursor = connection.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def _run(self, program: str, *arguments: str) -> None:
        assert self.bin is not None
        command = [str(self.bin / program), *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.folder)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")


def reap_orphans() -> None:
    """Stop the servers of test sessions that died without stopping theirs (killed, or a timeout's SIGKILL);
    a server whose test process still runs (another session in this tree) is left alone."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((folder / OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not _alive(owner):
            try:
                PostgreSQLServer(folder).stop()
            except (RuntimeError, subprocess.SubprocessError):
                shutil.rmtree(folder, ignore_errors=True)  # no server ran there any more


def _alive(pid: int) -> bool:
    """Whether a process of that id runs (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _version(folder: str) -> list[int]:
    """/usr/lib/postgresql/15/bin → [15]: versions compared as numbers (9.6 is older than 15)."""
    return [int(part) for part in Path(folder).parent.name.split(".") if part.isdigit()]


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def free_port() -> int:
    """A port nothing listens on now (the server's, or one a test knows is closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
