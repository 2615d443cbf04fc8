"""The journal: every fact the bot learns, written in its own transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, col, create_engine, or_, select

from broker.account import AccountSnapshot
from broker.calendar import NY
from broker.orders import Fill, Leg, Order, OrderState, OrderStatus
from broker.structures import Engine, Intent, PositionGreeks, Structure, StructureKind
from storage import codec, schema
from storage.commands import RollRow
from storage.tables import (
    IN_FLIGHT_STATUSES,
    EquityRow,
    FillRow,
    IntentRow,
    IntentStatus,
    LegRow,
    MarkRow,
    OrderEventRow,
    OrderRow,
    StructureRow,
    StructureStatus,
)

ClosedStructure = tuple[Structure, datetime, float, str, float]


@dataclass(frozen=True, slots=True)
class EquityDay:
    """The balances journaled for one day (the last write of the day)."""

    day: date
    time: datetime
    net_liquidation: float
    cash: float
    maintenance_margin: float


@dataclass(frozen=True, slots=True)
class LinkedFill:
    """An execution with its intent, the structure it opened or closed, and the engine, if known.

    The structure of an opening intent is the first structure it opened (a partial close later
    splits it, the split-off rows keep the opening intent); a closing intent names its own.
    """

    fill: Fill
    intent_id: int | None
    structure_id: int | None
    engine: Engine | None


@dataclass(frozen=True, slots=True)
class JournaledIntent:
    """An intent with its id, status, status message and the time it was journaled."""

    id: int
    intent: Intent
    status: str
    status_message: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HeldStructure:
    """A structure held at a moment, with its mark if the last one was journaled before then."""

    structure: Structure
    mark: float | None
    marked_at: datetime | None


@dataclass(frozen=True, slots=True)
class JournaledRoll:
    """A roll: the structure closed, the one opened in its place, why, and the net price."""

    time: datetime
    old_structure_id: int
    new_structure_id: int
    engine: Engine
    reason: str
    net_price: float


@dataclass(frozen=True, slots=True)
class JournaledOrder:
    """An order's latest journaled state with its intent (kind, engine, structure it acts on)."""

    ref: str
    intent_id: int
    intent_kind: str
    engine: Engine
    structure_id: int | None
    status: OrderStatus
    quantity: int
    filled: int
    remaining: int
    limit_price: float
    placed_at: datetime
    updated_at: datetime


def _is_sqlite_memory(database: str | None) -> bool:
    return not database or database == ":memory:" or "mode=memory" in database


def _make_engine(url: str) -> SqlEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url)
    if _is_sqlite_memory(parsed.database):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        database = parsed.database or ""
        if not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        # In WAL mode NORMAL never corrupts and survives a process crash (kill -9); only an
        # OS crash or power loss may drop the last commits, which reconcile recovers.
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Memory: each pooled connection keeps its own page cache, filled up to cache_size as
        # the journal grows (2 MB by default: 10 MB over five connections in a daemon that runs
        # for months). The daemon's queries read recent rows through indexes, and the OS
        # caches the file anyway, so 512 KiB per connection is enough; no memory-mapped I/O
        # (its pages would count in the daemon's RSS). An in-memory journal keeps every page
        # whatever the cache size (the pages are the database).
        cursor.execute("PRAGMA cache_size=-512")  # KiB
        cursor.execute("PRAGMA mmap_size=0")
    finally:
        cursor.close()


def _now() -> datetime:
    return datetime.now(UTC)


class Journal:
    """Append-only store of intents, orders, fills, structures and equity."""

    def __init__(self, url: str) -> None:
        """Open the journal at a SQLAlchemy URL; an empty database gets the schema at head.

        Raise storage.schema.SchemaNotCurrent for a database that needs `alvh db upgrade`.
        """
        self._engine = _make_engine(url)
        # With `cache_open_structures` (replay: one process owns the journal) the open
        # structures are read once per change instead of once per cycle.
        self.cache_open_structures = False
        self._open_cache: list[Structure] | None = None
        try:
            schema.prepare(self._engine)
        except BaseException:
            self._engine.dispose()
            raise

    @classmethod
    def in_memory(cls) -> Journal:
        """Return a journal in a private in-memory SQLite database (for tests)."""
        return cls("sqlite://")

    @property
    def engine(self) -> SqlEngine:
        """Return the SQLAlchemy engine (for inspection and maintenance)."""
        return self._engine

    def dispose(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def save_copy(self, path: Path) -> None:
        """Write a consistent copy of a SQLite journal to `path` (SQLite's online backup).

        A replay keeps its journal in memory and saves it once at the end: the same rows,
        without a file write per fact.
        """
        if self._engine.dialect.name != "sqlite":
            raise ValueError("save_copy is for SQLite journals")
        target = sqlite3.connect(path)
        source = self._engine.raw_connection()
        try:
            source.driver_connection.backup(target)  # type: ignore[union-attr]
        finally:
            source.close()
            target.close()
        if not _is_sqlite_memory(self._engine.url.database):
            return  # a file journal was made by the migrations: it is stamped already
        schema.stamp_head(f"sqlite:///{path}")

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with Session(self._engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def _scalar(self, statement: Any) -> Any:
        """Return the one value of a read-only aggregate (Core: no ORM session to set up)."""
        with self._engine.connect() as connection:
            return connection.execute(statement).scalar_one()

    # intents

    def record_intent(self, intent: Intent, at: datetime) -> int:
        """Journal a new intent and return its id."""
        with self._transaction() as session:
            row = codec.intent_to_row(intent, at)
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

    def intent(self, intent_id: int) -> Intent:
        """Rebuild the intent journaled under an id."""
        with self._transaction() as session:
            return codec.intent_from_row(_intent_row(session, intent_id))

    def set_intent_status(
        self, intent_id: int, status: str, message: str = "", at: datetime | None = None
    ) -> None:
        """Move an intent to a new status with a message a person can read."""
        with self._transaction() as session:
            _set_status(session, intent_id, IntentStatus(status), message, at or _now())

    def intent_status(self, intent_id: int) -> str:
        """Return the status of an intent."""
        with self._transaction() as session:
            return _intent_row(session, intent_id).status

    def intents_in_flight(self) -> list[tuple[int, Intent, str]]:
        """Return (id, intent, status) of intents not yet settled, oldest first."""
        statuses = [status.value for status in IN_FLIGHT_STATUSES]
        with self._transaction() as session:
            rows = session.exec(
                select(IntentRow)
                .where(col(IntentRow.status).in_(statuses))
                .order_by(col(IntentRow.id))
            ).all()
            return [(_id(row.id), codec.intent_from_row(row), row.status) for row in rows]

    # orders

    def record_order(self, intent_id: int, order: Order, at: datetime) -> None:
        """Journal the order placed for an intent and mark the intent sent."""
        with self._transaction() as session:
            _set_status(session, intent_id, IntentStatus.SENT, "", at)
            session.add(
                OrderRow(
                    intent_id=intent_id,
                    ref=order.ref,
                    limit_price=order.limit_price,
                    quantity=order.quantity,
                    filled=0,
                    remaining=order.quantity,
                    status=OrderStatus.PENDING.value,
                    placed_at=at,
                    updated_at=at,
                )
            )

    def record_order_state(self, state: OrderState, at: datetime) -> None:
        """Update an order with what the venue reports and append it to its history.

        Two Core statements in one transaction (an order is journaled at each walk step);
        a `KeyError` for an order never journaled, and nothing written.
        """
        orders, events = OrderRow.__table__, OrderEventRow.__table__  # type: ignore[attr-defined]
        reported = {
            "status": state.status.value,
            "filled": state.filled,
            "remaining": state.remaining,
            "limit_price": state.limit_price,
            "avg_fill_price": state.avg_fill_price,
            "message": state.message,
        }
        latest = {**reported, "updated_at": at}
        if state.broker_order_id:  # an empty id never replaces the one journaled
            latest["broker_order_id"] = state.broker_order_id
        with self._engine.begin() as connection:
            updated = connection.execute(
                sa.update(orders).where(orders.c.ref == state.ref).values(latest)
            )
            if updated.rowcount == 0:
                raise KeyError(f"no journaled order with ref {state.ref!r}")
            connection.execute(sa.insert(events).values(ref=state.ref, time=at, **reported))

    def order_state(self, ref: str) -> OrderState | None:
        """Return the last known state of an order, or None for an unknown ref."""
        with self._transaction() as session:
            row = _order_row(session, ref)
            return None if row is None else codec.order_state_from_row(row)

    def order_history(self, ref: str) -> list[OrderState]:
        """Return every state journaled for an order, oldest first."""
        with self._transaction() as session:
            order = _order_row(session, ref)
            broker_order_id = "" if order is None else order.broker_order_id or ""
            rows = session.exec(
                select(OrderEventRow)
                .where(OrderEventRow.ref == ref)
                .order_by(col(OrderEventRow.id))
            ).all()
            return [
                OrderState(
                    ref=row.ref,
                    broker_order_id=broker_order_id,
                    status=OrderStatus(row.status),
                    filled=row.filled,
                    remaining=row.remaining,
                    limit_price=row.limit_price,
                    avg_fill_price=row.avg_fill_price,
                    message=row.message,
                )
                for row in rows
            ]

    # fills

    def record_fill(self, fill: Fill) -> bool:
        """Journal an execution; return False when its exec_id is already journaled.

        Looked up first: reconcile offers executions the journal mostly has already, and a
        failed insert costs a rollback and an exception. The unique exec_id still decides
        when another writer journals the same execution in between.
        """
        fills = FillRow.__table__  # type: ignore[attr-defined]
        try:
            with self._engine.begin() as connection:  # Core: no ORM unit of work per fill
                if _fill_id(connection, fill.exec_id) is not None:
                    return False
                row = codec.fill_to_row(fill).model_dump(exclude={"id"})
                connection.execute(sa.insert(fills).values(row))
        except IntegrityError:
            if self._has_fill(fill.exec_id):
                return False
            raise
        return True

    def _has_fill(self, exec_id: str) -> bool:
        with self._transaction() as session:
            return _fill_id(session, exec_id) is not None

    def fills_for_ref(self, ref: str) -> list[Fill]:
        """Return the executions of an order, oldest first."""
        with self._transaction() as session:
            rows = session.exec(
                select(FillRow)
                .where(FillRow.order_ref == ref)
                .order_by(col(FillRow.time), col(FillRow.id))
            ).all()
            return [codec.fill_from_row(row) for row in rows]

    def last_fills(self, limit: int = 10) -> list[Fill]:
        """Return the newest executions, newest first."""
        with self._transaction() as session:
            rows = session.exec(
                select(FillRow)
                .order_by(col(FillRow.time).desc(), col(FillRow.id).desc())
                .limit(limit)
            ).all()
            return [codec.fill_from_row(row) for row in rows]

    def fill_count(self) -> int:
        """Return how many executions are journaled."""
        with self._transaction() as session:
            return session.exec(select(func.count()).select_from(FillRow)).one()

    def commissions_for_intent(self, intent_id: int) -> float:
        """Return the commissions paid on the fills of an intent's order."""
        order_refs = select(OrderRow.ref).where(OrderRow.intent_id == intent_id)
        total = select(func.coalesce(func.sum(FillRow.commission), 0.0)).where(
            or_(FillRow.intent_id == intent_id, col(FillRow.order_ref).in_(order_refs))
        )
        return float(self._scalar(total))

    # structures

    def open_structure(
        self,
        *,
        intent_id: int,
        engine: Engine,
        kind: StructureKind,
        legs: tuple[Leg, ...],
        quantity: int,
        open_price: float,
        opened_at: datetime,
        multiplier: int = 100,
    ) -> int:
        """Journal a structure now held, with its legs, and mark its intent filled."""
        if quantity <= 0:
            raise ValueError(f"quantity must be positive, got {quantity}")
        if not legs:
            raise ValueError("a structure needs at least one leg")
        self._open_cache = None
        with self._transaction() as session:
            _set_status(session, intent_id, IntentStatus.FILLED, "", opened_at)
            return _add_structure(
                session, intent_id, engine, kind, legs, quantity, open_price, opened_at, multiplier
            )

    def close_structure(
        self,
        structure_id: int,
        *,
        close_price: float,
        closed_at: datetime,
        reason: str,
        commissions: float = 0.0,
        intent_id: int | None = None,
        units: int | None = None,
    ) -> int:
        """Mark a structure closed with its realized P&L (and its closing intent filled).

        With `units` below the quantity held (a partial close), the structure is split in the
        same transaction: a new row for `units` is closed and the rest stays open under the
        old id. Return the id of the closed row.
        """
        self._open_cache = None
        with self._transaction() as session:
            closed_id = _close_units(
                session, structure_id, close_price, closed_at, reason, commissions, units
            )
            if intent_id is not None:
                _set_status(session, intent_id, IntentStatus.FILLED, "", closed_at)
            return closed_id

    def roll_structure(
        self,
        structure_id: int,
        *,
        intent_id: int,
        units: int,
        close_price: float,
        new_legs: tuple[Leg, ...],
        new_open_price: float,
        rolled_at: datetime,
        reason: str,
        net_price: float,
        commissions: float = 0.0,
    ) -> tuple[int, int]:
        """Book a filled roll in one transaction: close `units` of the old structure, open the
        new one (opened by the roll's intent), link them with a roll row. Return (closed, new).

        `commissions` are the old structure's share of its opening commissions; the roll
        order's own commissions stay with the new structure (counted when it closes).
        """
        self._open_cache = None
        with self._transaction() as session:
            old = session.get(StructureRow, structure_id)
            if old is None:
                raise KeyError(f"no journaled structure {structure_id}")
            engine, kind, multiplier = Engine(old.engine), StructureKind(old.kind), old.multiplier
            closed_id = _close_units(
                session, structure_id, close_price, rolled_at, reason, commissions, units
            )
            new_id = _add_structure(
                session,
                intent_id,
                engine,
                kind,
                new_legs,
                units,
                new_open_price,
                rolled_at,
                multiplier,
            )
            session.add(
                RollRow(
                    time=rolled_at,
                    old_structure_id=closed_id,
                    new_structure_id=new_id,
                    engine=engine.value,
                    reason=reason,
                    net_price=net_price,
                )
            )
            _set_status(session, intent_id, IntentStatus.FILLED, "", rolled_at)
            return closed_id, new_id

    def opened_units(self, structure_id: int) -> int:
        """Return the units its opening order bought: the structure plus rows split from it."""
        with self._transaction() as session:
            row = session.get(StructureRow, structure_id)
            if row is None:
                raise KeyError(f"no journaled structure {structure_id}")
            total = session.exec(
                select(func.sum(StructureRow.quantity)).where(
                    StructureRow.open_intent_id == row.open_intent_id
                )
            ).one()
            return int(total or 0)

    def open_structures(self) -> list[Structure]:
        """Return the structures still held, by id."""
        if self.cache_open_structures and self._open_cache is not None:
            return list(self._open_cache)
        with self._transaction() as session:
            rows = session.exec(
                select(StructureRow)
                .where(StructureRow.status == StructureStatus.OPEN.value)
                .order_by(col(StructureRow.id))
            ).all()
            found = _structures(session, rows)
        self._open_cache = found
        return list(found)

    def structure(self, structure_id: int) -> Structure | None:
        """Return a structure, open or closed, or None if unknown."""
        with self._transaction() as session:
            row = session.get(StructureRow, structure_id)
            return None if row is None else _structures(session, [row])[0]

    def open_intent_id(self, structure_id: int) -> int:
        """Return the id of the intent that opened a structure."""
        with self._transaction() as session:
            row = session.get(StructureRow, structure_id)
            if row is None:
                raise KeyError(f"no journaled structure {structure_id}")
            return row.open_intent_id

    def record_marks(
        self,
        marks: dict[int, float],
        at: datetime,
        greeks: Mapping[int, PositionGreeks] | None = None,
    ) -> None:
        """Store the latest net value per unit (and position greeks) of open structures.

        The structure row keeps the latest mark; `structure_marks` keeps the last one of each
        New York day, so a past day's log can be rebuilt with that day's marks. One transaction.
        """
        day = at.astimezone(NY).date()
        greeks = greeks or {}
        statements = _mark_statements(self._engine.dialect.name)
        with self._engine.begin() as connection:  # Core statements: no ORM session needed
            if self.cache_open_structures and self._open_cache is not None:
                held = {s.id for s in self._open_cache}  # the cache is dropped on each change
                open_ids: Iterable[int] = (sid for sid in marks if sid in held)
            else:
                open_ids = connection.execute(statements.open_ids, {"ids": list(marks)}).scalars()
            rows = [_mark_values(sid, marks[sid], at, greeks.get(sid)) for sid in open_ids]
            if rows:
                connection.execute(statements.latest, rows)
                connection.execute(statements.daily, [{**row, "day": day} for row in rows])

    def recovery_start(self) -> datetime | None:
        """Return the earliest time an execution the journal lacks can have, or None for all.

        Orders are worked one at a time and their fills journaled in order, so a missing fill
        is either newer than the newest journaled fill or belongs to an order still in flight
        (placed at or after its `placed_at`). None when the journal has no fill yet.
        """
        with self._engine.connect() as connection:  # read only: Core, no ORM session
            newest = connection.execute(select(func.max(FillRow.time))).scalar_one()
            if newest is None:
                return None
            in_flight = connection.execute(
                select(func.min(OrderRow.placed_at))
                .join(IntentRow, col(IntentRow.id) == col(OrderRow.intent_id))
                .where(col(IntentRow.status).in_([st.value for st in IN_FLIGHT_STATUSES]))
            ).scalar_one()
        newest = _as_utc(newest)
        return newest if in_flight is None else min(newest, _as_utc(in_flight))

    def open_greeks(self) -> dict[int, PositionGreeks]:
        """Return the position greeks at the latest mark of each open structure that has them."""
        with self._transaction() as session:
            rows = session.exec(
                select(StructureRow).where(StructureRow.status == StructureStatus.OPEN.value)
            ).all()
            return {_id(r.id): g for r in rows if (g := _greeks_of(r)) is not None}

    def greeks_held_at(self, at: datetime) -> dict[int, PositionGreeks]:
        """Return the greeks of the last mark journaled before `at`, per structure that has them."""
        last = (
            select(col(MarkRow.structure_id), func.max(MarkRow.marked_at).label("marked_at"))
            .where(col(MarkRow.marked_at) < at)
            .group_by(col(MarkRow.structure_id))
            .subquery()
        )  # only each structure's last mark is read, not the whole history
        with self._transaction() as session:
            rows = session.exec(
                select(MarkRow)
                .join(
                    last,
                    (col(MarkRow.structure_id) == last.c.structure_id)
                    & (col(MarkRow.marked_at) == last.c.marked_at),
                )
                .order_by(col(MarkRow.marked_at), col(MarkRow.id))
            ).all()
            latest = {r.structure_id: r for r in rows}  # later rows replace earlier ones
            return {sid: g for sid, r in latest.items() if (g := _greeks_of(r)) is not None}

    def open_marks(self) -> dict[int, tuple[float, datetime]]:
        """Return the latest (mark, time) of each open structure that has one."""
        statement = select(StructureRow.id, StructureRow.mark, StructureRow.marked_at).where(
            StructureRow.status == StructureStatus.OPEN.value
        )
        with self._engine.connect() as connection:  # read only: Core, no ORM session
            rows = connection.execute(statement).all()
        return {
            _id(sid): (mark, at) for sid, mark, at in rows if mark is not None and at is not None
        }

    def structure_status(self, structure_id: int) -> str | None:
        """Return "open" or "closed" for a structure, or None if unknown."""
        with self._transaction() as session:
            row = session.get(StructureRow, structure_id)
            return None if row is None else row.status

    def structure_counts(self) -> dict[str, int]:
        """Return how many structures were opened and how many of them are closed."""
        with self._transaction() as session:
            opened = session.exec(select(func.count()).select_from(StructureRow)).one()
            closed = session.exec(
                select(func.count())
                .select_from(StructureRow)
                .where(StructureRow.status == StructureStatus.CLOSED.value)
            ).one()
            return {"opened": opened, "closed": closed}

    def realized_pnl(self) -> float:
        """Return the realized P&L summed over closed structures."""
        with self._transaction() as session:
            total = session.exec(
                select(func.coalesce(func.sum(StructureRow.realized_pnl), 0.0)).where(
                    StructureRow.status == StructureStatus.CLOSED.value
                )
            ).one()
            return float(total or 0.0)

    def closed_structures(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[ClosedStructure]:
        """Return (structure, closed_at, close_price, reason, realized_pnl), oldest close first:
        all of them, or those closed in [start, end)."""
        query = select(StructureRow).where(StructureRow.status == StructureStatus.CLOSED.value)
        if start is not None:
            query = query.where(col(StructureRow.closed_at) >= start)
        if end is not None:
            query = query.where(col(StructureRow.closed_at) < end)
        with self._transaction() as session:
            rows = session.exec(
                query.order_by(col(StructureRow.closed_at), col(StructureRow.id))
            ).all()
            structures = _structures(session, rows)
            result: list[ClosedStructure] = []
            for row, structure in zip(rows, structures, strict=True):
                assert row.closed_at is not None and row.close_price is not None
                result.append(
                    (
                        structure,
                        row.closed_at,
                        row.close_price,
                        row.close_reason or "",
                        row.realized_pnl or 0.0,
                    )
                )
            return result

    # equity

    def record_equity(self, day: date, account: AccountSnapshot) -> None:
        """Journal the account balances of a day (the last write of the day wins)."""
        try:
            self._upsert_equity(day, account)
        except IntegrityError:
            self._upsert_equity(day, account)  # a concurrent writer inserted the day first

    def _upsert_equity(self, day: date, account: AccountSnapshot) -> None:
        with self._transaction() as session:
            row = session.exec(select(EquityRow).where(EquityRow.day == day)).first()
            if row is None:
                row = EquityRow(
                    day=day,
                    time=account.time,
                    net_liquidation=account.net_liquidation,
                    cash=account.cash,
                    maintenance_margin=account.maintenance_margin,
                )
            else:
                row.time = account.time
                row.net_liquidation = account.net_liquidation
                row.cash = account.cash
                row.maintenance_margin = account.maintenance_margin
            session.add(row)

    def equity_curve(self, since: date | None = None) -> list[tuple[date, float]]:
        """Return (day, net liquidation) by ascending day, from `since` on when given."""
        table = EquityRow.__table__  # type: ignore[attr-defined]
        query = sa.select(table.c.day, table.c.net_liquidation).order_by(table.c.day)
        if since is not None:
            query = query.where(table.c.day >= since)
        with self._engine.connect() as connection:
            return [(day, value) for day, value in connection.execute(query)]

    # read-only queries for the daily fill and roll log (bot/daily_report.py)

    def fills_between(self, start: datetime, end: datetime) -> list[LinkedFill]:
        """Return the executions in [start, end) with their links, by time then exec_id."""
        with self._transaction() as session:
            rows = session.exec(
                select(FillRow)
                .where(col(FillRow.time) >= start, col(FillRow.time) < end)
                .order_by(col(FillRow.time), col(FillRow.exec_id))
            ).all()
            intent_ids = {row.intent_id for row in rows if row.intent_id is not None}
            intents = session.exec(select(IntentRow).where(col(IntentRow.id).in_(intent_ids))).all()
            opened = session.exec(
                select(StructureRow.open_intent_id, func.min(StructureRow.id))
                .where(col(StructureRow.open_intent_id).in_(intent_ids))
                .group_by(col(StructureRow.open_intent_id))
            ).all()
            opened_by = {intent_id: structure_id for intent_id, structure_id in opened}
            by_id = {_id(row.id): row for row in intents}
            linked: list[LinkedFill] = []
            for row in rows:
                intent = by_id.get(row.intent_id) if row.intent_id is not None else None
                structure_id = None
                if intent is not None:
                    structure_id = intent.structure_id or opened_by.get(_id(intent.id))
                engine = None if intent is None else Engine(intent.engine)
                linked.append(
                    LinkedFill(codec.fill_from_row(row), row.intent_id, structure_id, engine)
                )
            return linked

    def intents_between(self, start: datetime, end: datetime) -> list[JournaledIntent]:
        """Return the intents journaled in [start, end), oldest first."""
        with self._transaction() as session:
            rows = session.exec(
                select(IntentRow)
                .where(col(IntentRow.created_at) >= start, col(IntentRow.created_at) < end)
                .order_by(col(IntentRow.created_at), col(IntentRow.id))
            ).all()
            return [
                JournaledIntent(
                    _id(row.id),
                    codec.intent_from_row(row),
                    row.status,
                    row.status_message,
                    row.created_at,
                )
                for row in rows
            ]

    def equity_days(self, until: date) -> list[EquityDay]:
        """Return the balances of every journaled day up to `until` inclusive, by day."""
        with self._transaction() as session:
            rows = session.exec(
                select(EquityRow).where(EquityRow.day <= until).order_by(col(EquityRow.day))
            ).all()
            return [
                EquityDay(r.day, r.time, r.net_liquidation, r.cash, r.maintenance_margin)
                for r in rows
            ]

    def structures_held_at(self, at: datetime) -> list[HeldStructure]:
        """Return the structures opened before `at` and not closed by then, by id.

        Each comes with its last mark journaled before `at` (from the daily mark history;
        journals older than that history fall back to the latest mark when it precedes `at`).
        """
        with self._transaction() as session:
            rows = session.exec(
                select(StructureRow)
                .where(
                    col(StructureRow.opened_at) < at,
                    or_(col(StructureRow.closed_at).is_(None), col(StructureRow.closed_at) >= at),
                )
                .order_by(col(StructureRow.id))
            ).all()
            structures = _structures(session, rows)
            held: list[HeldStructure] = []
            for row, structure in zip(rows, structures, strict=True):
                kept = session.exec(
                    select(MarkRow)
                    .where(MarkRow.structure_id == row.id, col(MarkRow.marked_at) < at)
                    .order_by(col(MarkRow.marked_at).desc())
                ).first()
                if kept is not None:
                    held.append(HeldStructure(structure, kept.mark, kept.marked_at))
                    continue
                known = row.marked_at is not None and row.marked_at < at
                held.append(
                    HeldStructure(
                        structure,
                        row.mark if known else None,
                        row.marked_at if known else None,
                    )
                )
            return held

    def structures_closed_between(self, start: datetime, end: datetime) -> list[ClosedStructure]:
        """Return the structures closed in [start, end) as `closed_structures` does."""
        return self.closed_structures(start, end)

    def realized_pnl_before(self, at: datetime) -> float:
        """Return the realized P&L summed over structures closed before `at`."""
        with self._transaction() as session:
            total = session.exec(
                select(func.coalesce(func.sum(StructureRow.realized_pnl), 0.0)).where(
                    StructureRow.status == StructureStatus.CLOSED.value,
                    col(StructureRow.closed_at) < at,
                )
            ).one()
            return float(total or 0.0)

    def realized_pnl_since(self, engine: Engine, since: datetime) -> float:
        """Return the realized P&L of one engine's structures closed at or after `since`."""
        total = select(func.coalesce(func.sum(StructureRow.realized_pnl), 0.0)).where(
            StructureRow.status == StructureStatus.CLOSED.value,
            StructureRow.engine == Engine(engine).value,
            col(StructureRow.closed_at) >= since,
        )
        return float(self._scalar(total) or 0.0)

    def rolls_between(self, start: datetime, end: datetime) -> list[JournaledRoll]:
        """Return the rolls journaled in [start, end), oldest first (today: `alvh roll`)."""
        with self._transaction() as session:
            rows = session.exec(
                select(RollRow)
                .where(col(RollRow.time) >= start, col(RollRow.time) < end)
                .order_by(col(RollRow.time), col(RollRow.id))
            ).all()
            return [
                JournaledRoll(
                    r.time,
                    r.old_structure_id,
                    r.new_structure_id,
                    Engine(r.engine),
                    r.reason,
                    r.net_price,
                )
                for r in rows
            ]

    # read-only queries for `alvh status` (bot/status_view.py)

    def working_orders(self) -> list[JournaledOrder]:
        """Return the orders whose latest journaled state is pending, working or partial."""
        live = [OrderStatus.PENDING.value, OrderStatus.WORKING.value, OrderStatus.PARTIAL.value]
        with self._transaction() as session:
            rows = session.exec(
                select(OrderRow, IntentRow)
                .join(IntentRow, col(IntentRow.id) == col(OrderRow.intent_id))
                .where(col(OrderRow.status).in_(live))
                .order_by(col(OrderRow.placed_at), col(OrderRow.id))
            ).all()
            return [
                JournaledOrder(
                    ref=order.ref,
                    intent_id=order.intent_id,
                    intent_kind=intent.kind,
                    engine=Engine(intent.engine),
                    structure_id=intent.structure_id,
                    status=OrderStatus(order.status),
                    quantity=order.quantity,
                    filled=order.filled,
                    remaining=order.remaining,
                    limit_price=order.limit_price,
                    placed_at=order.placed_at,
                    updated_at=order.updated_at,
                )
                for order, intent in rows
            ]

    def last_order_update(self) -> datetime | None:
        """Return when an order was last placed or last changed state, or None without orders."""
        with self._transaction() as session:
            return session.exec(select(func.max(OrderRow.updated_at))).one()

    def last_market_time(self) -> datetime | None:
        """Return the latest time the engine's clock journaled: a fill, an order, a mark, equity.

        Commands and the daemon lock are left out: they carry the wall clock, which differs
        from the engine's clock on the simulated exchange.
        """
        with self._transaction() as session:
            times = [
                session.exec(select(func.max(FillRow.time))).one(),
                session.exec(select(func.max(OrderRow.updated_at))).one(),
                session.exec(select(func.max(StructureRow.marked_at))).one(),
                session.exec(select(func.max(EquityRow.time))).one(),
            ]
        known = [t for t in times if t is not None]
        return max(known) if known else None

    def last_equity_days(self, n: int = 2) -> list[EquityDay]:
        """Return the balances of the last `n` journaled days, newest first."""
        with self._transaction() as session:
            rows = session.exec(
                select(EquityRow).order_by(col(EquityRow.day).desc()).limit(n)
            ).all()
            return [
                EquityDay(r.day, r.time, r.net_liquidation, r.cash, r.maintenance_margin)
                for r in rows
            ]

    # read-only queries for the replay report (bot/replay_report.py)

    def daily_marks(self) -> list[tuple[int, date, float]]:
        """Return (structure id, New York day, last mark of that day) of every structure.

        Ordered by structure id, then day: the whole daily mark history in one query.
        """
        with self._transaction() as session:
            rows = session.exec(
                select(col(MarkRow.structure_id), col(MarkRow.day), col(MarkRow.mark)).order_by(
                    col(MarkRow.structure_id), col(MarkRow.day)
                )
            ).all()
            return [(structure_id, day, mark) for structure_id, day, mark in rows]


def _id(value: int | None) -> int:
    if value is None:
        raise ValueError("row was not flushed: it has no id")
    return value


def _intent_row(session: Session, intent_id: int) -> IntentRow:
    row = session.get(IntentRow, intent_id)
    if row is None:
        raise KeyError(f"no journaled intent {intent_id}")
    return row


def _set_status(
    session: Session, intent_id: int, status: IntentStatus, message: str, at: datetime
) -> None:
    row = _intent_row(session, intent_id)
    row.status = status.value
    row.status_message = message
    row.updated_at = at
    session.add(row)


def _fill_id(db: Session | Connection, exec_id: str) -> int | None:
    found = db.execute(select(FillRow.id).where(FillRow.exec_id == exec_id)).scalar()
    return None if found is None else int(found)


def _order_row(session: Session, ref: str) -> OrderRow | None:
    return session.exec(select(OrderRow).where(OrderRow.ref == ref)).first()


def _as_utc(value: datetime) -> datetime:
    """Return an aggregate's datetime as tz-aware UTC (SQLite returns naive UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


_MARK_COLUMNS = ("mark", "marked_at", "delta", "gamma", "vega", "theta")


@dataclass(frozen=True)
class _MarkStatements:
    """`record_marks`'s three statements, built once (marks are written every hour of a run)."""

    open_ids: sa.Select[int]
    latest: sa.Update
    daily: sa.Insert


@cache
def _mark_statements(dialect: str) -> _MarkStatements:
    """Build the statements for a SQL dialect: the day's mark is an upsert, which SQLite and
    PostgreSQL write alike (ON CONFLICT ... DO UPDATE) with their own insert construct."""
    structures, marks = StructureRow.__table__, MarkRow.__table__  # type: ignore[attr-defined]
    bound: dict[str, Any] = {name: sa.bindparam(name) for name in _MARK_COLUMNS}
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = insert(marks).values(
        structure_id=sa.bindparam("sid"), day=sa.bindparam("day"), **bound
    )
    return _MarkStatements(
        open_ids=sa.select(structures.c.id).where(
            structures.c.id.in_(sa.bindparam("ids", expanding=True)),
            structures.c.status == StructureStatus.OPEN.value,
        ),
        latest=sa.update(structures).where(structures.c.id == sa.bindparam("sid")).values(bound),
        daily=upsert.on_conflict_do_update(
            index_elements=["structure_id", "day"],
            set_={name: upsert.excluded[name] for name in _MARK_COLUMNS},
        ),
    )


def _mark_values(
    structure_id: int, mark: float, at: datetime, greeks: PositionGreeks | None
) -> dict[str, Any]:
    """Return the bound values of one structure's mark (greeks None when unknown)."""
    return {
        "sid": structure_id,
        "mark": mark,
        "marked_at": at,
        "delta": greeks.delta if greeks else None,
        "gamma": greeks.gamma if greeks else None,
        "vega": greeks.vega if greeks else None,
        "theta": greeks.theta if greeks else None,
    }


def _greeks_of(row: StructureRow | MarkRow) -> PositionGreeks | None:
    values = (row.delta, row.gamma, row.vega, row.theta)
    if any(v is None for v in values):
        return None
    delta, gamma, vega, theta = (float(v) for v in values)  # type: ignore[arg-type]
    return PositionGreeks(delta, gamma, vega, theta)


def _add_structure(
    session: Session,
    intent_id: int,
    engine: Engine,
    kind: StructureKind,
    legs: tuple[Leg, ...],
    quantity: int,
    open_price: float,
    opened_at: datetime,
    multiplier: int,
) -> int:
    row = StructureRow(
        engine=Engine(engine).value,
        kind=StructureKind(kind).value,
        status=StructureStatus.OPEN.value,
        quantity=quantity,
        open_price=open_price,
        multiplier=multiplier,
        opened_at=opened_at,
        open_intent_id=intent_id,
    )
    session.add(row)
    session.flush()
    structure_id = _id(row.id)
    for position, leg in enumerate(legs):
        session.add(codec.leg_to_row(leg, structure_id=structure_id, position=position))
    return structure_id


def _close_units(
    session: Session,
    structure_id: int,
    close_price: float,
    closed_at: datetime,
    reason: str,
    commissions: float,
    units: int | None,
) -> int:
    """Close `units` (all when None) of a structure, splitting it when fewer; return the id."""
    row = session.get(StructureRow, structure_id)
    if row is None:
        raise KeyError(f"no journaled structure {structure_id}")
    if row.status == StructureStatus.CLOSED.value:
        raise ValueError(f"structure {structure_id} is already closed")
    if units is not None and not 0 < units <= row.quantity:
        raise ValueError(f"cannot close {units} of {row.quantity} units")
    if units is not None and units < row.quantity:
        row.quantity -= units
        session.add(row)
        row = _split_off(session, row, units)
    row.status = StructureStatus.CLOSED.value
    row.closed_at = closed_at
    row.close_price = close_price
    row.close_reason = reason
    row.realized_pnl = codec.realized_pnl(
        open_price=row.open_price,
        close_price=close_price,
        multiplier=row.multiplier,
        quantity=row.quantity,
        commissions=commissions,
    )
    session.add(row)
    session.flush()
    return _id(row.id)


def _split_off(session: Session, row: StructureRow, units: int) -> StructureRow:
    """Add an open copy of `row` (same legs, opening intent and price) holding `units`."""
    part = StructureRow(
        engine=row.engine,
        kind=row.kind,
        status=StructureStatus.OPEN.value,
        quantity=units,
        open_price=row.open_price,
        multiplier=row.multiplier,
        opened_at=row.opened_at,
        open_intent_id=row.open_intent_id,
        mark=row.mark,
        marked_at=row.marked_at,
    )
    session.add(part)
    session.flush()
    legs = session.exec(
        select(LegRow).where(LegRow.structure_id == row.id).order_by(col(LegRow.position))
    ).all()
    for leg in legs:
        data = leg.model_dump(exclude={"id", "structure_id"})
        session.add(LegRow(structure_id=_id(part.id), **data))
    return part


def _structures(session: Session, rows: Sequence[StructureRow]) -> list[Structure]:
    ids = [_id(row.id) for row in rows]
    if not ids:
        return []
    legs = session.exec(
        select(LegRow)
        .where(col(LegRow.structure_id).in_(ids))
        .order_by(col(LegRow.structure_id), col(LegRow.position))
    ).all()
    by_structure: dict[int, list[LegRow]] = {structure_id: [] for structure_id in ids}
    for leg in legs:
        by_structure[leg.structure_id].append(leg)
    return [codec.structure_from_rows(row, by_structure[_id(row.id)]) for row in rows]
