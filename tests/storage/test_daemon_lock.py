"""One daemon per journal: the lock row, its staleness, its heartbeat and its release."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import IntegrityError

from bot.daemon import LOCK_LOST, keep_lock
from storage import daemon_lock
from storage.daemon_lock import DaemonAlreadyRunning, LockHolder, pid_alive, stale_reason
from storage.journal import Journal

HOST = socket.gethostname()
T0 = datetime(2024, 5, 2, 13, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlEngine]:
    url = f"sqlite:///{tmp_path / 'journal.sqlite'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").new_database()
    journal = Journal(url)
    yield journal.engine
    journal.dispose()


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)
    return child.pid


def holder(pid: int = 4242, host: str = "other-host", beat: datetime = T0) -> LockHolder:
    return LockHolder(pid=pid, host=host, started_at=T0, heartbeat_at=beat)


def test_the_first_daemon_takes_the_free_lock(engine: SqlEngine) -> None:
    assert daemon_lock.current_holder(engine) is None
    taken = daemon_lock.acquire(engine, now=T0)
    assert taken.replaced is None
    assert taken.holder == LockHolder(os.getpid(), HOST, T0, T0)
    assert daemon_lock.current_holder(engine) == taken.holder


def test_a_second_daemon_is_refused_with_pid_host_and_since(engine: SqlEngine) -> None:
    daemon_lock.acquire(engine, now=T0, pid=4242, host="other-host")
    with pytest.raises(DaemonAlreadyRunning) as refused:
        daemon_lock.acquire(engine, now=T0 + timedelta(seconds=12))
    message = str(refused.value)
    assert "pid 4242 on other-host" in message
    assert "running since 2024-05-02 13:00:00 UTC" in message
    assert "last heartbeat 12 s ago" in message
    assert refused.value.holder.pid == 4242
    assert daemon_lock.current_holder(engine) == holder()  # unchanged


def test_a_live_pid_on_this_host_keeps_its_lock_however_old_its_start(engine: SqlEngine) -> None:
    parent = os.getppid()
    daemon_lock.acquire(engine, now=T0, pid=parent, host=HOST)
    with pytest.raises(DaemonAlreadyRunning, match=f"pid {parent} on {HOST}"):
        daemon_lock.acquire(engine, now=T0 + timedelta(seconds=30))


def test_a_lock_left_by_a_dead_pid_on_this_host_is_taken_over(
    engine: SqlEngine, dead_pid: int
) -> None:
    daemon_lock.acquire(engine, now=T0, pid=dead_pid, host=HOST)
    taken = daemon_lock.acquire(engine, now=T0 + timedelta(seconds=5))  # heartbeat still fresh
    assert taken.replaced == holder(dead_pid, HOST)
    assert taken.why_stale == f"pid {dead_pid} is not running on {HOST}"
    assert daemon_lock.current_holder(engine) == taken.holder
    assert taken.holder.pid == os.getpid()


def test_a_lock_on_another_host_goes_stale_only_after_the_staleness(engine: SqlEngine) -> None:
    daemon_lock.acquire(engine, now=T0, pid=4242, host="other-host")
    with pytest.raises(DaemonAlreadyRunning):
        daemon_lock.acquire(engine, now=T0 + timedelta(seconds=120))
    taken = daemon_lock.acquire(engine, now=T0 + timedelta(seconds=121))
    assert taken.replaced == holder()
    assert "older than 120 s" in taken.why_stale


def test_the_staleness_is_configurable(engine: SqlEngine) -> None:
    daemon_lock.acquire(engine, now=T0, pid=4242, host="other-host")
    later = T0 + timedelta(seconds=20)
    with pytest.raises(DaemonAlreadyRunning):
        daemon_lock.acquire(engine, now=later)
    taken = daemon_lock.acquire(engine, now=later, staleness=timedelta(seconds=10))
    assert taken.replaced is not None and taken.replaced.pid == 4242


def test_our_own_pid_on_this_host_is_a_leftover_of_an_earlier_run() -> None:
    why = stale_reason(holder(os.getpid(), HOST), now=T0, host=HOST, pid=os.getpid())
    assert why is not None and "earlier run" in why
    assert stale_reason(holder(), now=T0, host=HOST, pid=os.getpid()) is None


def test_pid_alive_tells_running_from_gone(dead_pid: int) -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid)
    assert not pid_alive(0) and not pid_alive(-1)


def test_of_two_daemons_taking_over_the_same_stale_lock_only_one_wins(
    engine: SqlEngine, dead_pid: int
) -> None:
    daemon_lock.acquire(engine, now=T0, pid=dead_pid, host=HOST)
    winners: list[daemon_lock.Acquired] = []

    def alive_while_a_rival_takes_over(pid: int) -> bool:
        if pid == dead_pid and not winners:  # between our read and our update
            winners.append(daemon_lock.acquire(engine, now=T0, pid=111, host=HOST))
        return pid != dead_pid

    with pytest.raises(DaemonAlreadyRunning, match="pid 111"):
        daemon_lock.acquire(
            engine, now=T0, pid=222, host=HOST, alive=alive_while_a_rival_takes_over
        )
    assert [w.holder.pid for w in winners] == [111]
    assert daemon_lock.current_holder(engine) == winners[0].holder


def test_a_heartbeat_moves_only_the_heartbeat(engine: SqlEngine) -> None:
    mine = daemon_lock.acquire(engine, now=T0).holder
    later = T0 + timedelta(seconds=30)
    assert daemon_lock.heartbeat(engine, mine, now=later)
    assert daemon_lock.current_holder(engine) == LockHolder(mine.pid, mine.host, T0, later)


def test_a_heartbeat_fails_once_the_lock_was_taken_over(engine: SqlEngine) -> None:
    mine = daemon_lock.acquire(engine, now=T0, pid=4242, host="other-host").holder
    daemon_lock.acquire(engine, now=T0 + timedelta(minutes=5))  # we looked dead
    assert not daemon_lock.heartbeat(engine, mine, now=T0 + timedelta(minutes=6))
    assert daemon_lock.current_holder(engine) != mine


def test_release_frees_the_lock_for_the_next_daemon(engine: SqlEngine) -> None:
    mine = daemon_lock.acquire(engine, now=T0, pid=4242, host="other-host").holder
    assert daemon_lock.release(engine, mine)
    assert daemon_lock.current_holder(engine) is None
    assert daemon_lock.acquire(engine, now=T0).replaced is None


def test_release_never_drops_another_daemons_lock(engine: SqlEngine) -> None:
    theirs = daemon_lock.acquire(engine, now=T0).holder
    assert not daemon_lock.release(engine, holder())
    assert daemon_lock.current_holder(engine) == theirs


def test_the_table_holds_one_row_only(engine: SqlEngine) -> None:
    daemon_lock.acquire(engine, now=T0)
    check_failed = (
        "(?i)check constraint"  # SQLite: "CHECK constraint failed"; PostgreSQL: "violates"
    )
    with pytest.raises(IntegrityError, match=check_failed), engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO daemon_lock (id, pid, host, started_at, heartbeat_at)"
            " VALUES (2, 1, 'h', '2024-01-01 00:00:00', '2024-01-01 00:00:00')"
        )


async def test_keep_lock_beats_on_wall_time_until_stopped(engine: SqlEngine) -> None:
    mine = daemon_lock.acquire(engine, now=T0).holder
    stop = asyncio.Event()
    task = asyncio.create_task(keep_lock(engine, mine, timedelta(seconds=0.02), stop))
    beats: set[datetime] = set()
    for _ in range(200):
        await asyncio.sleep(0.02)
        current = daemon_lock.current_holder(engine)
        assert current is not None and current.started_at == T0
        if current.heartbeat_at != T0:
            beats.add(current.heartbeat_at)
        if len(beats) >= 2:
            break
    stop.set()
    assert await task is None
    assert len(beats) >= 2  # it beat at least twice, on the wall clock (T0 is in the past)
    assert all(beat > T0 for beat in beats)


async def test_keep_lock_stops_the_daemon_when_the_lock_was_taken_over(engine: SqlEngine) -> None:
    mine = daemon_lock.acquire(engine, now=T0, pid=4242, host="other-host").holder
    daemon_lock.acquire(engine, now=T0 + timedelta(minutes=5))
    stop = asyncio.Event()
    lost = await asyncio.wait_for(keep_lock(engine, mine, timedelta(seconds=0.01), stop), 5)
    assert lost == LOCK_LOST and stop.is_set()


def test_the_heartbeat_carries_the_broker_state_for_status() -> None:
    from sqlmodel import SQLModel, create_engine

    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    got = daemon_lock.acquire(engine, pid=4242, host="h")
    assert daemon_lock.broker_state(engine) is None
    assert daemon_lock.heartbeat(engine, got.holder, broker_state="connected")
    assert daemon_lock.broker_state(engine) == "connected"
    assert daemon_lock.heartbeat(engine, got.holder)  # no state given: the last one stays
    assert daemon_lock.broker_state(engine) == "connected"
