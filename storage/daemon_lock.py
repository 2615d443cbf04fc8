"""One daemon per journal: a single-row lock in the journal's database, kept fresh by a heartbeat.

Modeling choices:
- The lock is the row with the fixed primary key 1 of `daemon_lock` (a check constraint allows no
  other). Inserting it is the atomic test-and-set on every database: of two daemons that find
  the table empty, the second insert fails on the primary key. Taking over a stale lock is a
  compare-and-set UPDATE that names the old holder and its last heartbeat, so of two daemons that
  find the same stale holder only one wins, and a holder that beats meanwhile keeps its lock.
- A holder is (pid, host, started_at); its heartbeat (wall-clock UTC, never the simulated
  clock) only moves `heartbeat_at`, and only while the row still names it, so a daemon whose
  lock was taken over finds out at its next beat.
- Stale means: on this host, the pid is not alive (`os.kill(pid, 0)`) or is our own pid (a row
  left by an earlier run in a container, where pids repeat); or, on any host, the last heartbeat
  is older than `staleness` (default 120 s, four missed 30 s beats), the only test that works
  across hosts.
- Release deletes the row (only if it still names the releasing holder): no row is "not
  running"; a row left by a crash is recognised as stale by the next start.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import CheckConstraint, delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, Session, SQLModel, col

from broker.errors import AlvhError
from storage.tables import UTCDateTime

LOCK_ID = 1
DEFAULT_STALENESS = timedelta(seconds=120)
HEARTBEAT_EVERY = timedelta(seconds=30)
_ATTEMPTS = 3


class DaemonLockRow(SQLModel, table=True):
    __tablename__ = "daemon_lock"
    __table_args__ = (CheckConstraint("id = 1", name="ck_daemon_lock_one_row"),)

    id: int = Field(default=LOCK_ID, primary_key=True, sa_column_kwargs={"autoincrement": False})
    pid: int
    host: str
    started_at: datetime = Field(sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(sa_type=UTCDateTime)
    broker_state: str | None = None  # as the daemon saw it at its last heartbeat


@dataclass(frozen=True)
class LockHolder:
    """The daemon that holds (or held) the lock."""

    pid: int
    host: str
    started_at: datetime
    heartbeat_at: datetime

    def describe(self, now: datetime) -> str:
        """Return e.g. `pid 4242 on host-a, running since 2024-05-02 13:00:00 UTC, ...`."""
        since = self.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return (
            f"pid {self.pid} on {self.host}, running since {since}, "
            f"last heartbeat {heartbeat_age(self, now)}"
        )


@dataclass(frozen=True)
class Acquired:
    """The lock is ours; `replaced` is the stale holder we took it from, with the reason."""

    holder: LockHolder
    replaced: LockHolder | None = None
    why_stale: str = ""


class DaemonAlreadyRunning(AlvhError):
    """Another live daemon holds the journal's lock: this one refuses to start."""

    def __init__(self, holder: LockHolder, now: datetime) -> None:
        self.holder = holder
        super().__init__(
            f"another daemon runs on this journal: {holder.describe(now)}. "
            "Stop it first (or wait: its lock is taken over once its heartbeat is stale)."
        )


def heartbeat_age(holder: LockHolder, now: datetime) -> str:
    """Return how long ago the holder's last heartbeat was, e.g. `12 s ago`."""
    seconds = max(0.0, (now - holder.heartbeat_at).total_seconds())
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def pid_alive(pid: int) -> bool:
    """Return True if a process with this pid exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def stale_reason(
    holder: LockHolder,
    *,
    now: datetime,
    host: str,
    pid: int,
    staleness: timedelta = DEFAULT_STALENESS,
    alive: Callable[[int], bool] = pid_alive,
) -> str | None:
    """Return why `holder` cannot be running any more, or None if it may be."""
    if holder.host == host and holder.pid == pid:
        return f"pid {pid} on {host} is this process: the row was left by an earlier run"
    if holder.host == host and not alive(holder.pid):
        return f"pid {holder.pid} is not running on {host}"
    if now - holder.heartbeat_at > staleness:
        return (
            f"its last heartbeat is {heartbeat_age(holder, now)}, "
            f"older than {staleness.total_seconds():.0f} s"
        )
    return None


def current_holder(engine: SqlEngine) -> LockHolder | None:
    """Return who holds the lock, or None when no daemon does."""
    with engine.connect() as connection:
        return holder_on(connection)


def holder_on(connection: Connection) -> LockHolder | None:
    """Return who holds the lock, read on an open connection (None when no daemon does)."""
    row = connection.execute(
        select(
            col(DaemonLockRow.pid),
            col(DaemonLockRow.host),
            col(DaemonLockRow.started_at),
            col(DaemonLockRow.heartbeat_at),
        ).where(col(DaemonLockRow.id) == LOCK_ID)
    ).first()
    if row is None:
        return None
    return LockHolder(
        pid=row.pid, host=row.host, started_at=row.started_at, heartbeat_at=row.heartbeat_at
    )


def acquire(
    engine: SqlEngine,
    *,
    now: datetime | None = None,
    pid: int | None = None,
    host: str | None = None,
    staleness: timedelta = DEFAULT_STALENESS,
    alive: Callable[[int], bool] = pid_alive,
) -> Acquired:
    """Take the lock for this process, or take over a stale one; raise DaemonAlreadyRunning."""
    now = now or datetime.now(UTC)
    me = LockHolder(
        pid=os.getpid() if pid is None else pid,
        host=socket.gethostname() if host is None else host,
        started_at=now,
        heartbeat_at=now,
    )
    for _ in range(_ATTEMPTS):
        with Session(engine) as session:
            row = session.get(DaemonLockRow, LOCK_ID)
            if row is None:
                if _insert(session, me):
                    return Acquired(me)
                continue  # another daemon inserted first: look at it
            old = _holder(row)
            why = stale_reason(
                old, now=now, host=me.host, pid=me.pid, staleness=staleness, alive=alive
            )
            if why is None:
                raise DaemonAlreadyRunning(old, now)
            if _replace(session, old, me):
                return Acquired(me, old, why)
    holder = current_holder(engine)
    if holder is None:
        raise RuntimeError("the daemon lock kept changing while it was being acquired")
    raise DaemonAlreadyRunning(holder, now)


def heartbeat(
    engine: SqlEngine,
    holder: LockHolder,
    now: datetime | None = None,
    broker_state: str | None = None,
) -> bool:
    """Record that `holder` is alive (and its broker connection state, when given); return
    False if the lock is no longer its own."""
    values: dict[str, object] = {"heartbeat_at": now or datetime.now(UTC)}
    if broker_state is not None:
        values["broker_state"] = broker_state
    statement = update(DaemonLockRow).where(*_is(holder)).values(**values)
    with Session(engine) as session:
        changed = session.exec(statement).rowcount
        session.commit()
    return changed == 1


def release(engine: SqlEngine, holder: LockHolder) -> bool:
    """Drop the lock if `holder` still has it; return whether it did."""
    with Session(engine) as session:
        removed = session.exec(delete(DaemonLockRow).where(*_is(holder))).rowcount
        session.commit()
    return removed == 1


def _insert(session: Session, me: LockHolder) -> bool:
    session.add(
        DaemonLockRow(
            id=LOCK_ID,
            pid=me.pid,
            host=me.host,
            started_at=me.started_at,
            heartbeat_at=me.heartbeat_at,
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def _replace(session: Session, old: LockHolder, me: LockHolder) -> bool:
    statement = (
        update(DaemonLockRow)
        .where(*_is(old), col(DaemonLockRow.heartbeat_at) == old.heartbeat_at)
        .values(pid=me.pid, host=me.host, started_at=me.started_at, heartbeat_at=me.heartbeat_at)
    )
    changed = session.exec(statement).rowcount
    session.commit()
    return changed == 1


def _is(holder: LockHolder) -> tuple[ColumnElement[bool], ...]:
    return (
        col(DaemonLockRow.id) == LOCK_ID,
        col(DaemonLockRow.pid) == holder.pid,
        col(DaemonLockRow.host) == holder.host,
        col(DaemonLockRow.started_at) == holder.started_at,
    )


def _holder(row: DaemonLockRow) -> LockHolder:
    return LockHolder(
        pid=row.pid, host=row.host, started_at=row.started_at, heartbeat_at=row.heartbeat_at
    )


def broker_state(engine: SqlEngine) -> str | None:
    """Return the broker connection state the lock's daemon reported last, if any."""
    with Session(engine) as session:
        row = session.get(DaemonLockRow, LOCK_ID)
        return None if row is None else row.broker_state
