"""The simulated venue's own file: its paper account survives a restart, apart from the journal.

A SQLite file (stdlib sqlite3, WAL) with one transaction per save, so a crash leaves either the
previous or the new state, never a mix. Executions and settlements are append-only rows;
orders are upserted when they change; holdings and the account fields are rewritten (small).
Rows hold JSON made by pydantic from the venue's dataclasses. The venue saves before it
answers the bot, so the venue's record is never behind the bot's journal.

The file keeps the whole history; the venue holds only a recent window of it in memory
(venue_state.py). `load(recent)` reads just that window (executions and settlements newest
first, until one is older than the window), and `executions_since` and `order` read older
history on demand. The connection's page cache is kept small (512 KiB, not SQLite's 2 MB):
the venue writes at the end of its tables and reads old history rarely.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter

from broker.errors import AlvhError
from broker.orders import Fill
from broker.sim.venue_state import Holding, Settlement, VenueState, WorkingOrder

FORMAT_VERSION = 1
PAGE_CACHE_KIB = 512

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS holdings (key TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (ref TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (seq INTEGER PRIMARY KEY, exec_id TEXT UNIQUE NOT NULL,
                                       body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settlements (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
"""

_TABLES = {"meta", "holdings", "orders", "executions", "settlements"}
_Timed = TypeVar("_Timed", Fill, Settlement)
_HOLDING = TypeAdapter(Holding)
_ORDER = TypeAdapter(WorkingOrder)
_FILL = TypeAdapter(Fill)
_SETTLEMENT = TypeAdapter(Settlement)


class VenueFileError(AlvhError):
    """The venue file cannot be used (unreadable, other format, another account)."""


class VenueStore:
    """Loads and saves one VenueState in a SQLite file."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        """Open (or create) the venue file; `timeout` is how long a save waits for a lock."""
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock_exclusively(path)
        try:
            self._db = sqlite3.connect(path, isolation_level=None, timeout=timeout)
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
            foreign = tables - _TABLES - {f"sqlite_autoindex_{t}_1" for t in _TABLES}
            if foreign:
                raise VenueFileError(
                    f"{path}: not a simulated-venue file (it has tables {sorted(foreign)}; "
                    "is it the journal?)"
                )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")  # see the docstring
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:  # not SQLite, or SQLite of another kind
            self.close()
            raise VenueFileError(f"{path}: not a simulated-venue file ({exc})") from exc
        except VenueFileError:
            self.close()
            raise
        self._saved_executions = 0
        self._saved_settlements = 0

    def close(self) -> None:
        """Close the file and release the lock on it."""
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = -1

    def load(self, recent: timedelta | None = None) -> VenueState | None:
        """Return the saved state, or None when the file holds no account yet.

        With `recent`, only the history of that long before the saved clock: the executions
        and settlements since then, and the orders live or active since then.
        """
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if not meta:
            return None
        if int(meta.get("format", "0")) != FORMAT_VERSION:
            raise VenueFileError(
                f"{self.path}: venue file format {meta.get('format')} is not {FORMAT_VERSION}"
            )
        try:
            state = VenueState(
                account_id=meta["account_id"],
                cash=float(meta["cash"]),
                clock=datetime.fromisoformat(meta["clock"]) if meta.get("clock") else None,
                session=meta["session"],
                next_order_id=int(meta["next_order_id"]),
            )
            for (body,) in self._db.execute("SELECT body FROM holdings"):
                holding = _HOLDING.validate_json(body)
                state.holdings[holding.contract.key] = holding
            cutoff = None if recent is None or state.clock is None else state.clock - recent
            for (body,) in self._db.execute("SELECT body FROM orders ORDER BY rowid"):
                order = _ORDER.validate_json(body)
                if cutoff is None or order.is_live or order.last_active >= cutoff:
                    state.orders[order.order.ref] = order
            state.executions = self._history_since("executions", _FILL, cutoff)
            state.settlements = self._history_since("settlements", _SETTLEMENT, cutoff)
            state.execution_count = self._count("executions")
            state.settlement_count = self._count("settlements")
        except (KeyError, ValueError) as exc:
            raise VenueFileError(f"{self.path}: damaged venue file ({exc})") from exc
        self._saved_executions = state.execution_count
        self._saved_settlements = state.settlement_count
        return state

    def executions_since(self, since: datetime | None) -> list[Fill]:
        """Return the saved executions at or after `since` (all when None), oldest first."""
        return self._history_since("executions", _FILL, since)

    def order(self, ref: str) -> WorkingOrder | None:
        """Return the saved order with reference `ref`, or None."""
        row = self._db.execute("SELECT body FROM orders WHERE ref = ?", (ref,)).fetchone()
        return None if row is None else _ORDER.validate_json(row[0])

    def _history_since(
        self, table: str, adapter: TypeAdapter[_Timed], since: datetime | None
    ) -> list[_Timed]:
        """Return the rows of an append-only history table from `since` on, oldest first.

        Read newest first until an older row: the venue's clock never goes back, so the rows
        are in time order and only the rows returned (and one more) are parsed.
        """
        assert table in _TABLES
        cursor = self._db.execute(f"SELECT body FROM {table} ORDER BY seq DESC")
        recent: list[_Timed] = []
        try:
            for (body,) in cursor:
                item = adapter.validate_json(body)
                if since is not None and item.time < since:
                    break
                recent.append(item)
        finally:
            cursor.close()  # an unfinished statement would hold a read snapshot
        recent.reverse()
        return recent

    def _count(self, table: str) -> int:
        assert table in _TABLES
        return int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def save(self, state: VenueState, changed_orders: set[str]) -> None:
        """Write what changed since the last save, in one transaction."""
        meta = {
            "format": str(FORMAT_VERSION),
            "account_id": state.account_id,
            "cash": repr(state.cash),
            "clock": state.clock.isoformat() if state.clock else "",
            "session": state.session,
            "next_order_id": str(state.next_order_id),
        }
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
            db.execute("DELETE FROM holdings")
            db.executemany(
                "INSERT INTO holdings VALUES (?, ?)",
                [(k, _dump(_HOLDING, h)) for k, h in state.holdings.items()],
            )
            db.executemany(
                "INSERT OR REPLACE INTO orders VALUES (?, ?)",
                [(ref, _dump(_ORDER, state.orders[ref])) for ref in sorted(changed_orders)],
            )
            new_fills = state.executions_after(self._saved_executions)
            db.executemany(
                "INSERT INTO executions (exec_id, body) VALUES (?, ?)",
                [(f.exec_id, _dump(_FILL, f)) for f in new_fills],
            )
            new_settlements = state.settlements_after(self._saved_settlements)
            db.executemany(
                "INSERT INTO settlements (body) VALUES (?)",
                [(_dump(_SETTLEMENT, s),) for s in new_settlements],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._saved_executions = state.execution_count
        self._saved_settlements = state.settlement_count


def _lock_exclusively(path: Path) -> int:
    """Hold an exclusive lock on `path`.lock for this process's lifetime (the OS frees it on exit).

    One venue file, one running venue: a second process gets a clear error instead of two
    processes trading the same paper account from two journals.
    """
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise VenueFileError(
            f"{path} is in use by another running simulator (lock {lock_path}); "
            "stop it first, or give this one another sim.venue_path"
        ) from exc
    return fd


def _dump(adapter: TypeAdapter[Any], value: object) -> str:
    return json.dumps(adapter.dump_python(value, mode="json"), separators=(",", ":"))
