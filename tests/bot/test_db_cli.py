"""`alvh db`, and `alvh run` / `alvh status` facing the schema and the daemon lock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from structlog.testing import capture_logs
from typer.testing import CliRunner

from bot.cli import app
from bot.config import AppConfig
from bot.daemon import run_daemon
from bot.status_view import daemon_line
from storage import daemon_lock, schema
from storage.daemon_lock import LockHolder
from storage.journal import Journal

runner = CliRunner(env={"COLUMNS": "200"})
ALVH = str(Path(sys.executable).with_name("alvh"))
HOST = socket.gethostname()
PRE_MIGRATION_TABLES = (
    "intents",
    "orders",
    "order_events",
    "fills",
    "structures",
    "legs",
    "equity",
)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_root_logging: None) -> None:
    """Run in tmp_path (the venue's default file lands there) and undo `alvh run`'s logging."""
    monkeypatch.chdir(tmp_path)


def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'alvh.sqlite'}"


def write_config(tmp_path: Path, url: str | None = None, speed: float = 1e9) -> Path:
    path = tmp_path / "my config.toml"
    path.write_text(
        f'[database]\nurl = "{url or db_url(tmp_path)}"\n'
        f'[logging]\njson_path = "{tmp_path / "alvh.jsonl"}"\n'
        f"[sim]\nstart = 2018-01-05\nspeed = {speed}\n"
    )
    return path


def alvh(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def migrate_to(url: str, revision: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection=connection), revision)
    engine.dispose()


def take_lock(url: str, pid: int, host: str) -> LockHolder:
    journal = Journal(url)
    try:
        return daemon_lock.acquire(journal.engine, pid=pid, host=host).holder
    finally:
        journal.dispose()


def test_db_status_then_upgrade_on_a_fresh_journal(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    code, out = alvh("db", "status", "--config", str(config))
    assert code == 0
    assert "empty" in out and "none" in out and schema.head_revision() in out

    code, out = alvh("db", "upgrade", "--config", str(config))
    assert code == 0, out
    assert f"created the schema at revision {schema.head_revision()}" in out

    code, out = alvh("db", "upgrade", "--config", str(config))
    assert (code, "already up to date at revision 0007" in out) == (0, True)
    code, out = alvh("db", "status", "--config", str(config))
    assert code == 0 and "up to date at revision 0007" in out


def test_alvh_run_refuses_a_journal_behind_and_prints_the_fix(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    migrate_to(db_url(tmp_path), "0001")

    code, out = alvh("run", "--config", str(config), "--until", "2018-01-05")

    assert code == 2
    assert "behind: the database is at revision 0001" in out
    assert f"fix: alvh db upgrade --config '{config}'" in out  # quoted: the path has a space
    assert not (tmp_path / "var").exists()  # refused before the venue was built


def test_db_status_and_upgrade_of_a_journal_behind(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    migrate_to(db_url(tmp_path), "0001")
    code, out = alvh("db", "status", "--config", str(config))
    assert code == 1
    assert "behind" in out and "pending revisions: 0002, 0003, 0004, 0005, 0006, 0007" in out
    assert f"fix: alvh db upgrade --config '{config}'" in out

    code, out = alvh("db", "upgrade", "--config", str(config))
    assert (
        code == 0
        and "upgraded from revision 0001 to 0007 (applied 0002, 0003, 0004, 0005, 0006, 0007)"
        in out
    )
    assert schema.current_revision(db_url(tmp_path)) == "0007"


def test_a_pre_migration_journal_is_explained_then_stamped(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    engine = sa.create_engine(db_url(tmp_path))  # revision 0001's tables, unversioned
    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection=connection), "0001")
        connection.exec_driver_sql("DROP TABLE alembic_version")
    assert set(sa.inspect(engine).get_table_names()) == set(PRE_MIGRATION_TABLES)
    engine.dispose()

    code, out = alvh("status", "--config", str(config))
    assert code == 2
    assert "pre-migration database" in out and "stamps it at 0001" in out
    assert f"fix: alvh db upgrade --config '{config}'" in out

    code, out = alvh("db", "upgrade", "--config", str(config))
    assert code == 0
    assert "stamped the pre-migration journal at revision 0001" in out
    assert "then upgraded it to 0007" in out


def test_a_journal_at_an_unknown_revision_is_refused_without_an_upgrade_hint(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    migrate_to(db_url(tmp_path), "head")
    engine = sa.create_engine(db_url(tmp_path))
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0042'")
    engine.dispose()

    code, out = alvh("run", "--config", str(config))
    assert code == 2 and "unknown revision 0042" in out
    assert "alvh db upgrade" not in out and "details: alvh db status" in out
    code, out = alvh("db", "upgrade", "--config", str(config))
    assert code == 2 and "unknown revision 0042" in out


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("nonsense", "cannot use database URL 'nonsense'"),
        ("mysql+nosuchdriver://alvh:s3cret@db/alvh", "cannot use database URL"),
    ],
)
@pytest.mark.parametrize("verb", [("db", "status"), ("db", "upgrade"), ("run",), ("status",)])
def test_a_bad_url_is_a_clear_error_with_exit_code_2(
    tmp_path: Path, url: str, says: str, verb: tuple[str, ...]
) -> None:
    code, out = alvh(*verb, "--config", str(write_config(tmp_path, url)))
    assert code == 2
    assert says in out and "s3cret" not in out and "Traceback" not in out


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a_directory").mkdir()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a_directory'}")
    code, out = alvh("db", "status", "--config", str(config))
    assert code == 2 and "cannot open the journal database" in out


def test_alvh_run_refuses_while_another_daemon_holds_the_lock(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    take_lock(db_url(tmp_path), pid=4242, host="other-host")
    code, out = alvh("run", "--config", str(config), "--until", "2018-01-05")
    assert code == 2
    assert "another daemon runs on this journal: pid 4242 on other-host" in out
    assert "running since" in out and "last heartbeat" in out


def test_alvh_status_shows_the_daemon_pid_and_heartbeat_or_that_none_runs(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    code, out = alvh("status", "--config", str(config))
    assert code == 0 and "daemon not running" in out

    take_lock(db_url(tmp_path), pid=4242, host="other-host")
    code, out = alvh("status", "--config", str(config))
    assert code == 0
    assert "daemon running: pid 4242 on other-host" in out and "s ago" in out


def test_db_upgrade_refuses_while_a_daemon_runs(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    take_lock(db_url(tmp_path), pid=4242, host="other-host")
    code, out = alvh("db", "upgrade", "--config", str(config))
    assert code == 2 and "stop it before upgrading" in out


def test_daemon_line_for_a_live_a_stale_and_no_holder() -> None:
    now = datetime(2024, 5, 2, 13, 5, tzinfo=UTC)
    live = LockHolder(4242, "other-host", now - timedelta(minutes=5), now - timedelta(seconds=7))
    assert daemon_line(live, now, host=HOST) == (
        "daemon running: pid 4242 on other-host, running since 2024-05-02 13:00:00 UTC, "
        "last heartbeat 7 s ago"
    )
    stale = LockHolder(4242, "other-host", now - timedelta(hours=3), now - timedelta(minutes=10))
    line = daemon_line(stale, now, host=HOST)
    assert line.startswith("daemon not running (a stale lock names pid 4242 on other-host")
    assert "10 min ago" in line
    assert daemon_line(None, now, host=HOST) == "daemon not running"


def daemon_config(tmp_path: Path) -> AppConfig:
    return AppConfig.model_validate(
        {
            "database": {"url": db_url(tmp_path)},
            "logging": {"json_path": str(tmp_path / "alvh.jsonl")},
            "sim": {"start": "2018-01-05", "speed": 1e9},
        }
    )


async def test_run_daemon_takes_over_a_dead_daemons_lock_and_releases_it_on_stop(
    tmp_path: Path,
) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    config = daemon_config(tmp_path)
    take_lock(config.database.url, pid=child.pid, host=HOST)

    with capture_logs() as logs:
        assert await run_daemon(config, until=date(2018, 1, 5)) == 0

    [warning] = [e for e in logs if e["event"] == "took over the lock of a stale daemon"]
    assert warning["old_pid"] == child.pid and warning["old_host"] == HOST
    assert "not running" in warning["why"]
    [started] = [e for e in logs if e["event"] == "daemon starting"]
    assert started["pid"] == os.getpid()
    journal = Journal(config.database.url)
    assert daemon_lock.current_holder(journal.engine) is None  # released on stop
    journal.dispose()


def wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def lock_holder(url: str) -> LockHolder | None:
    if schema.current_revision(url) != schema.head_revision():
        return None
    engine = sa.create_engine(url)
    try:
        return daemon_lock.current_holder(engine)
    finally:
        engine.dispose()


def test_a_second_alvh_run_on_the_same_journal_refuses_while_the_first_runs(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, speed=2520.0)  # 10 s per trading day: runs for minutes
    env = {**os.environ, "COLUMNS": "200"}
    output_file = tmp_path / "daemon.out"  # a file, never an unread pipe that fills
    with output_file.open("w") as sink:
        first = subprocess.Popen(
            [ALVH, "run", "--config", str(config), "--until", "2018-03-01"],
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        assert wait_for(lambda: lock_holder(db_url(tmp_path)) is not None, 60), "no lock taken"
        holder = lock_holder(db_url(tmp_path))
        assert holder is not None and holder.pid == first.pid
        second = subprocess.run(
            [ALVH, "run", "--config", str(config), "--until", "2018-03-01"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"another daemon runs on this journal: pid {first.pid} on {HOST}" in second.stderr
        assert first.poll() is None  # the first one is unaffected
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=60)
    output = output_file.read_text()
    assert first.returncode == 0, output
    assert lock_holder(db_url(tmp_path)) is None  # released on a clean stop
