"""A throwaway PostgreSQL server for the journal's tests on PostgreSQL.

The README offers PostgreSQL by URL; these tests run the journal on a real server, not just
compile its statements. The server is the machine's own PostgreSQL (`initdb` and `pg_ctl` on
PATH or under /usr/lib/postgresql/*/bin), started in a temporary folder, reachable only through
a Unix socket in that folder (no TCP port is opened), with fsync off. Each test gets a new
database. PostgreSQL refuses to run as root, so under root the server runs as the `postgres`
user that Debian's package creates.

Without PostgreSQL binaries the tests that need it are skipped, saying why.
"""

from __future__ import annotations

import getpass
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path

PORT = 5432  # only names the socket file: no TCP listener is opened
ROLE = "alvh"


def find_binaries() -> Path | None:
    """Return the folder holding initdb and pg_ctl, or None."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


class PostgresServer:
    """A running throwaway server; `new_database()` returns the URL of a fresh database."""

    def __init__(self, folder: Path, binaries: Path, run_as: list[str]) -> None:
        self.folder = folder
        self._binaries = binaries
        self._run_as = run_as
        self._numbers = count(1)

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._run_as, str(self._binaries / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}")

    def start(self) -> None:
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", ROLE, "-E", "UTF8", "--no-sync")
        options = f"-k {self.folder} -p {PORT} -c listen_addresses='' -c fsync=off"
        log = self.folder / "server.log"
        self._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(log), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{ROLE}@/{database}?host={self.folder}&port={PORT}"

    def new_database(self) -> str:
        """Create a new empty database; return its SQLAlchemy URL."""
        import psycopg

        name = f"journal_{next(self._numbers)}"
        with psycopg.connect(
            host=str(self.folder), port=PORT, user=ROLE, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[PostgresServer | str]:
    """Start a server for the block; yield it, or why there is none (a reason to skip)."""
    binaries = find_binaries()
    if binaries is None:
        yield "no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        yield "psycopg is not installed (pip install -e '.[postgres]')"
        return
    run_as: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="alvh-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the server as Debian's postgres user
        if shutil.which("runuser") is None:
            yield "running as root without runuser: cannot start PostgreSQL as another user"
            return
        try:
            shutil.chown(folder, user="postgres")
        except LookupError:
            yield "running as root and there is no `postgres` user to run PostgreSQL"
            return
        run_as = ["runuser", "-u", "postgres", "--"]
    server = PostgresServer(folder, binaries, run_as)
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        yield f"PostgreSQL did not start as {getpass.getuser()}: {exc}"
        return
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
