"""The daily log's child process: which journals it can read, its request and answer, and what
the daemon does when the child fails, hangs, cannot start or is cancelled."""

from __future__ import annotations

import asyncio
import os
import pickle
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from bot import day_log_child
from bot.daily_report import FILLS_COLUMNS, MACRO_EVENTS_CSV, WrittenDayLog
from bot.day_log_child import (
    FORK_SERVER,
    ChildFailure,
    ChildReport,
    DayLogRequest,
    answer_request,
    readable_by_a_child,
    run_child,
    write_day_log_in_child,
    write_day_log_off_the_loop,
)
from broker.account import AccountSnapshot
from broker.calendar import NY
from storage.journal import Journal

DAY = date(2018, 1, 8)
CLOSE = datetime(2018, 1, 8, 16, 20, tzinfo=NY)


def hang(request: DayLogRequest) -> dict[str, Any]:
    """Work that never answers (a child's body: it must be importable by name)."""
    (request.reports_dir / "pid").write_text(str(os.getpid()))
    time.sleep(60)
    return {}


def crash(request: DayLogRequest) -> dict[str, Any]:
    """Work that dies without answering, as a crash in C would."""
    os._exit(3)


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def child_pid(pid_file: Path) -> int:
    for _ in range(400):
        if pid_file.exists() and pid_file.read_text().strip():
            return int(pid_file.read_text())
        await asyncio.sleep(0.05)
    raise AssertionError("the child never started")


def file_journal(tmp_path: Path, nlv: float = 1_000_123.0) -> str:
    """Return the URL of a journal file holding one equity row on DAY."""
    url = f"sqlite:///{tmp_path / 'journal.sqlite'}"
    journal = Journal(url)
    journal.record_equity(DAY, AccountSnapshot("DU1", CLOSE, nlv, nlv, 0.0))
    journal.dispose()
    return url


# which journals a child can read


@pytest.mark.parametrize(
    ("url", "readable"),
    [
        ("sqlite://", False),
        ("sqlite:///:memory:", False),
        ("sqlite:///file:alvh?mode=memory&cache=shared&uri=true", False),
        ("sqlite:////var/lib/alvh/journal.sqlite", True),
        ("sqlite:///journal.sqlite", True),  # relative: the child runs in the same folder
        ("postgresql://alvh:secret@db.example/alvh", True),
    ],
)
def test_only_a_journal_outside_the_daemons_memory_is_read_by_a_child(
    url: str, readable: bool
) -> None:
    assert readable_by_a_child(url) is readable


@given(
    url=st.text(min_size=1).filter(lambda s: "\x00" not in s),
    day=st.dates(),
    folder=st.text(min_size=1).filter(lambda s: "\x00" not in s),
)
def test_a_request_survives_its_trip_through_the_pipe(url: str, day: date, folder: str) -> None:
    request = DayLogRequest(url, day, Path(folder), Path("/x/events.csv"))
    assert pickle.loads(pickle.dumps(request)) == request


async def test_the_child_reads_relative_paths_from_the_daemons_folder_of_the_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_journal(tmp_path)
    monkeypatch.chdir(tmp_path)  # after the fork server may have started elsewhere
    request = DayLogRequest("sqlite:///journal.sqlite", DAY, Path("reports"))
    outcome = await run_child(request, 60.0)
    assert isinstance(outcome, ChildReport), outcome
    assert (tmp_path / "reports" / "2018-01-08" / "summary.md").exists()


# the child itself


async def test_the_child_writes_the_day_and_answers_with_its_counts_and_cost(
    tmp_path: Path,
) -> None:
    url = file_journal(tmp_path)
    outcome = await run_child(DayLogRequest(url, DAY, tmp_path / "reports"), 60.0)
    assert isinstance(outcome, ChildReport), outcome
    folder = tmp_path / "reports" / "2018-01-08"
    assert outcome.written == WrittenDayLog(folder, 0, 0, 0, True)
    assert 0 < outcome.cpu_seconds < 60 and outcome.peak_rss_mb > 10
    assert "1,000,123.00" in (folder / "summary.md").read_text()


async def test_children_come_from_one_server_that_imported_the_report_once(
    tmp_path: Path,
) -> None:
    url = file_journal(tmp_path)
    costs = []
    for _ in range(2):
        outcome = await run_child(DayLogRequest(url, DAY, tmp_path / "reports"), 60.0)
        assert isinstance(outcome, ChildReport), outcome
        costs.append(outcome.cpu_seconds)
    # a fresh interpreter spends over 1 s importing pandas, matplotlib and SQLModel alone
    assert min(costs) < 1.0, costs


def test_a_child_that_cannot_write_answers_why_with_its_traceback(tmp_path: Path) -> None:
    url = file_journal(tmp_path)
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the reports folder should be")
    answer = answer_request(DayLogRequest(url, DAY, blocker))
    assert answer["written"] is False
    assert answer["error"].startswith(("FileExistsError", "NotADirectoryError"))
    assert "Traceback" in answer["traceback"]


def test_a_child_given_a_journal_it_cannot_open_answers_why(tmp_path: Path) -> None:
    folder_as_db = tmp_path / "a-folder"
    folder_as_db.mkdir()
    answer = answer_request(DayLogRequest(f"sqlite:///{folder_as_db}", DAY, tmp_path / "r"))
    assert answer["written"] is False and answer["error"]
    assert not (tmp_path / "r").exists()


# the daemon's side


async def test_the_daemon_logs_the_childs_log_with_the_in_process_fields(tmp_path: Path) -> None:
    url = file_journal(tmp_path)
    journal = Journal(url)
    try:
        with capture_logs() as logs:
            written = await write_day_log_off_the_loop(journal, DAY, tmp_path / "reports")
    finally:
        journal.dispose()
    folder = tmp_path / "reports" / "2018-01-08"
    assert written == WrittenDayLog(folder, 0, 0, 0, True)
    [event] = [e for e in logs if e["event"] == "daily log written"]
    assert {k: event[k] for k in ("day", "folder", "fills", "intents", "log_level")} == {
        "day": "2018-01-08",
        "folder": str(folder),
        "fills": 0,
        "intents": 0,
        "log_level": "info",
    }
    assert (folder / "fills.csv").read_text() == ",".join(FILLS_COLUMNS) + "\n"


async def test_an_in_memory_journal_is_written_in_process(tmp_path: Path) -> None:
    journal = Journal.in_memory()  # no child could see this equity row
    journal.record_equity(DAY, AccountSnapshot("DU1", CLOSE, 2e6, 2e6, 0.0))
    with capture_logs() as logs:
        written = await write_day_log_off_the_loop(journal, DAY, tmp_path)
    assert written is not None and written.has_equity
    assert "2,000,000.00" in (written.folder / "summary.md").read_text()
    assert [e["event"] for e in logs] == ["daily log written"]


async def test_a_failed_child_is_logged_as_not_written_with_its_error(tmp_path: Path) -> None:
    url = file_journal(tmp_path)
    blocker = tmp_path / "reports"
    blocker.write_text("")
    with capture_logs() as logs:
        assert await write_day_log_in_child(DayLogRequest(url, DAY, blocker)) is None
    [event] = [e for e in logs if e["event"] == "daily log not written"]
    assert event["log_level"] == "error" and event["day"] == "2018-01-08"
    assert event["folder"] == str(blocker / "2018-01-08")
    assert event["error"].startswith(("FileExistsError", "NotADirectoryError"))
    assert "Traceback" in event["exception"]


async def test_the_fork_server_is_stopped_when_reports_stop_coming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(day_log_child, "SERVER_IDLE_SECONDS", 0.5)
    url = file_journal(tmp_path)
    first = await run_child(DayLogRequest(url, DAY, tmp_path / "reports"), 60.0)
    assert isinstance(first, ChildReport), first
    assert is_running(first.server_pid)
    await asyncio.sleep(0.2)  # a report within the idle time: the same server
    second = await run_child(DayLogRequest(url, DAY, tmp_path / "reports"), 60.0)
    assert isinstance(second, ChildReport) and second.server_pid == first.server_pid
    await asyncio.sleep(1.0)
    assert not is_running(first.server_pid)  # stopped and reaped
    third = await run_child(DayLogRequest(url, DAY, tmp_path / "reports"), 60.0)
    assert isinstance(third, ChildReport) and third.server_pid != first.server_pid


async def test_a_child_that_hangs_is_killed_at_the_timeout(tmp_path: Path) -> None:
    request = DayLogRequest("sqlite:///x.sqlite", DAY, tmp_path)
    outcome = await run_child(request, 2.0, work=hang)
    assert outcome == ChildFailure("the report process did not finish within 2 s (killed)")
    assert not is_running(int((tmp_path / "pid").read_text()))


async def test_a_child_that_dies_without_an_answer_reports_its_exit_code(tmp_path: Path) -> None:
    outcome = await run_child(DayLogRequest("sqlite:///x.sqlite", DAY, tmp_path), 60.0, crash)
    assert outcome == ChildFailure("the report process exited with code 3")


async def test_a_child_that_cannot_start_is_a_failure_not_an_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unstartable(FORK_SERVER.Process):  # type: ignore[name-defined,misc]
        def start(self) -> None:
            raise OSError("no fork server")

    monkeypatch.setattr(FORK_SERVER, "Process", Unstartable)
    request = DayLogRequest("sqlite:///x.sqlite", DAY, tmp_path)
    with capture_logs() as logs:
        written = await write_day_log_in_child(request)
    assert written is None
    [event] = [e for e in logs if e["event"] == "daily log not written"]
    assert event["error"] == "the report process did not start: OSError: no fork server"


async def test_a_cancelled_wait_kills_the_child(tmp_path: Path) -> None:
    request = DayLogRequest("sqlite:///x.sqlite", DAY, tmp_path)
    task = asyncio.create_task(run_child(request, 60.0, work=hang))
    pid = await child_pid(tmp_path / "pid")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not is_running(pid)


def test_the_request_names_the_shipped_macro_calendar_by_default() -> None:
    assert DayLogRequest("sqlite://", DAY, Path("r")).macro_events_csv == MACRO_EVENTS_CSV


async def test_a_file_journal_is_written_by_a_child_not_in_process(tmp_path: Path) -> None:
    journal = Journal(file_journal(tmp_path))
    try:
        with capture_logs() as logs:  # no child starts and answers within a millisecond
            written = await write_day_log_off_the_loop(journal, DAY, tmp_path, timeout=0.001)
    finally:
        journal.dispose()
    assert written is None
    [event] = [e for e in logs if e["event"] == "daily log not written"]
    assert event["error"] == "the report process did not finish within 0.001 s (killed)"
