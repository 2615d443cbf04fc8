"""A replay's journal read once, and each engine's P&L on a grid of days (the replay report's base).

Modeling choices (see bot/replay_report.py for the report's):
- The day grid is the journal's equity rows (one per trading day's close) inside [start, end].
  The base it is counted from is the last equity row before `start`, else `start_equity` (the
  replay's starting cash) on the eve of `start`, else the first row of the period.
- An engine's value at a day's end is the realized P&L of its structures closed by then plus
  the unrealized P&L of those still held, (mark - open price) x multiplier x quantity at the
  last daily mark journaled on or before that day (zero before the first mark). A row split off
  by a partial close or a roll shares the marks of the row it came from (same engine, kind,
  legs, open time and price: one "lot").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import numpy.typing as npt

from broker.calendar import NY
from broker.structures import Engine, Structure
from storage import hedge_snapshots
from storage.hedge_snapshots import HedgeSnapshot
from storage.journal import Journal, JournaledRoll

Days = npt.NDArray[np.datetime64]
Floats = npt.NDArray[np.float64]
Lot = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Position:
    """One journal row of a structure, with its close (None while held) and realized P&L."""

    structure: Structure
    closed_at: datetime | None = None
    realized: float = 0.0

    @property
    def lot(self) -> Lot:
        """Return what rows split from one opening share: their marks per unit are the same."""
        s = self.structure
        return (s.engine, s.kind, s.legs, s.opened_at, s.open_price)


@dataclass(frozen=True)
class Ledger:
    """The journal's facts the report needs, read once."""

    equity: tuple[tuple[date, float], ...]
    positions: tuple[Position, ...]
    marks: tuple[tuple[int, date, float], ...]
    rolls: tuple[JournaledRoll, ...]
    snapshots: tuple[HedgeSnapshot, ...]


def ny_day(moment: datetime) -> date:
    """Return the New York calendar day of an instant."""
    return moment.astimezone(NY).date()


def as_days(days: Sequence[date]) -> Days:
    """Return dates as a numpy datetime64[D] array."""
    return np.array(days, dtype="datetime64[D]")


# reading the journal


def read_ledger(journal: Journal, start: date, end: date) -> Ledger:
    """Read equity, every structure, the daily marks, the period's rolls and hedge snapshots."""
    closed = [Position(s, at, pnl) for s, at, _price, _reason, pnl in journal.closed_structures()]
    held = [Position(s) for s in journal.open_structures()]
    since = datetime.combine(start, time(), tzinfo=NY)
    until = datetime.combine(end + timedelta(days=1), time(), tzinfo=NY)
    return Ledger(
        equity=tuple(journal.equity_curve()),
        positions=tuple(sorted([*closed, *held], key=lambda p: p.structure.id)),
        marks=tuple(journal.daily_marks()),
        rolls=tuple(journal.rolls_between(since, until)),
        snapshots=tuple(hedge_snapshots.history(journal.engine)),
    )


# engine values


def lot_marks(ledger: Ledger) -> dict[Lot, tuple[Days, Floats]]:
    """Return each lot's daily marks per unit (days ascending, one mark a day)."""
    lot_of = {p.structure.id: p.lot for p in ledger.positions}
    merged: dict[Lot, dict[date, float]] = {}
    for structure_id, day, mark in ledger.marks:
        if structure_id in lot_of:
            merged.setdefault(lot_of[structure_id], {})[day] = mark
    return {
        lot: (as_days(sorted(marks)), np.array([marks[d] for d in sorted(marks)], dtype=float))
        for lot, marks in merged.items()
    }


def held_range(position: Position, days: Days) -> tuple[int, int]:
    """Return the [first, last) grid indices at whose day's end the row was held."""
    first = int(np.searchsorted(days, np.datetime64(ny_day(position.structure.opened_at))))
    if position.closed_at is None:
        return first, days.size
    return first, int(np.searchsorted(days, np.datetime64(ny_day(position.closed_at))))


def position_values(position: Position, marks: tuple[Days, Floats], days: Days) -> Floats:
    """Return a row's P&L at each day's end: unrealized while held, then its realized P&L."""
    s = position.structure
    value = np.zeros(days.size)
    first, last = held_range(position, days)
    if position.closed_at is not None:
        value[max(first, last) :] = position.realized
    mark_days, mark_values = marks
    if last > first and mark_days.size:
        index = np.searchsorted(mark_days, days[first:last], "right") - 1
        mark = np.where(index >= 0, mark_values[np.maximum(index, 0)], s.open_price)
        value[first:last] = (mark - s.open_price) * s.multiplier * s.quantity
    return value


def engine_values(ledger: Ledger, days: Days) -> dict[Engine, Floats]:
    """Return each engine's realized-plus-unrealized P&L at each day's end."""
    marks = lot_marks(ledger)
    empty = (as_days([]), np.array([], dtype=float))
    values = {engine: np.zeros(days.size) for engine in Engine}
    for position in ledger.positions:
        values[position.structure.engine] += position_values(
            position, marks.get(position.lot, empty), days
        )
    return values


def unmarked_rows(ledger: Ledger, days: Days) -> int:
    """Return how many rows were held at some day's end of the grid without any daily mark."""
    marked = set(lot_marks(ledger))
    count = 0
    for position in ledger.positions:
        first, last = held_range(position, days)
        count += int(first < last and position.lot not in marked)
    return count


# the day grid


@dataclass(frozen=True)
class Grid:
    """The base day (index 0) and the period's equity days; `offset` is 1 when they differ."""

    days: Days
    nlv: Floats
    offset: int
    values: Mapping[Engine, Floats]

    def at(self, day: date) -> int | None:
        """Return the index of the last grid day on or before `day`, or None before the base."""
        index = int(np.searchsorted(self.days, np.datetime64(day), "right")) - 1
        return index if index >= 0 else None


def day_grid(ledger: Ledger, start: date, end: date, start_equity: float | None) -> Grid | None:
    """Return the grid of the period (None without an equity row inside it)."""
    inside = [(d, v) for d, v in ledger.equity if start <= d <= end]
    if not inside:
        return None
    before = [(d, v) for d, v in ledger.equity if d < start]
    if before:
        rows, offset = [before[-1], *inside], 1
    elif start_equity is not None:
        rows, offset = [(start - timedelta(days=1), start_equity), *inside], 1
    else:
        rows, offset = inside, 0
    days = as_days([d for d, _ in rows])
    nlv = np.array([v for _, v in rows], dtype=float)
    return Grid(days, nlv, offset, engine_values(ledger, days))
