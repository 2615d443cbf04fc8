"""Macro event calendar (CPI, PPI, FOMC) and the no-new-condor rule around events.

Rule (DESIGN.md section 2, "Signals"): no new condor on the trading day before or the day of a
CPI, PPI or FOMC event; the report lists the next events. The dates and how sure each one is come
from `config/macro_events.csv` (a copy of `shared/data/macro_events.csv`), columns
`date,event,time_et,status,source`; the status column is kept as given, never interpreted here.

The caller reads the file; this module parses its text. The trading calendar is passed in as a
sorted sequence of dates, so nothing here reads a clock or a calendar library.
"""

from __future__ import annotations

import bisect
import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

EVENT_KINDS = frozenset({"CPI", "PPI", "FOMC"})
COLUMNS = ("date", "event", "time_et", "status", "source")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True)
class MacroEvent:
    """One scheduled macro release: its day, kind (CPI, PPI, FOMC), time in ET and provenance."""

    day: date
    kind: str
    time_et: str
    status: str
    source: str


def _chronological(event: MacroEvent) -> tuple[date, str, str]:
    """Return the sort key that puts events in the order they happen."""
    return (event.day, event.time_et, event.kind)


def _fail(line: int, column: str, problem: str) -> ValueError:
    """Return the error for a bad cell, naming its line and column."""
    return ValueError(f"line {line}, column {column}: {problem}")


def _parse_date(text: str, line: int) -> date:
    """Return the date in a YYYY-MM-DD cell."""
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise _fail(line, "date", f"{text!r} is not a date (expected YYYY-MM-DD)")


def _parse_row(row: dict[str, str | None], line: int) -> MacroEvent:
    """Return the event in one CSV row."""
    cells = {name: (row.get(name) or "").strip() for name in COLUMNS}
    day = _parse_date(cells["date"], line)
    if cells["event"] not in EVENT_KINDS:
        expected = ", ".join(sorted(EVENT_KINDS))
        raise _fail(line, "event", f"unknown event {cells['event']!r} (expected one of {expected})")
    if not _TIME.fullmatch(cells["time_et"]):
        raise _fail(line, "time_et", f"{cells['time_et']!r} is not a time (expected HH:MM)")
    return MacroEvent(day, cells["event"], cells["time_et"], cells["status"], cells["source"])


def parse_macro_events(text: str) -> list[MacroEvent]:
    """Parse macro events CSV text into events in file order; raise ValueError naming the cell."""
    body = text.removeprefix("\ufeff")
    skipped = body[: len(body) - len(body.lstrip("\r\n"))].count("\n")  # blank lines on top
    reader = csv.DictReader(io.StringIO(body.lstrip("\r\n")), skipinitialspace=True)
    header = [name.strip() for name in reader.fieldnames or []]
    expected = ", ".join(COLUMNS)
    for name in COLUMNS:
        if name not in header:
            raise _fail(skipped + 1, name, f"missing column (expected columns {expected})")
    reader.fieldnames = header
    events: list[MacroEvent] = []
    seen: set[tuple[date, str]] = set()
    for row in reader:
        line = skipped + reader.line_num
        if None in row:
            raise _fail(line, str(len(header) + 1), f"more cells than the {len(header)} columns")
        if all(not (value or "").strip() for value in row.values()):
            continue
        event = _parse_row(row, line)
        if (event.day, event.kind) in seen:
            raise _fail(line, "event", f"duplicate {event.kind} on {event.day.isoformat()}")
        seen.add((event.day, event.kind))
        events.append(event)
    return events


def next_trading_day(today: date, trading_days: Sequence[date]) -> date:
    """Return the first trading day after `today`; raise if the calendar ends first."""
    position = bisect.bisect_right(trading_days, today)
    if position == len(trading_days):
        raise ValueError(f"trading_days has no day after {today.isoformat()}: extend the calendar")
    return trading_days[position]


def blocks_new_condor(
    events: Iterable[MacroEvent], today: date, trading_days: Sequence[date]
) -> MacroEvent | None:
    """Return the earliest event that blocks a new condor today, or None.

    An event blocks today when it falls today or after today but no later than the next trading
    day: today is then the day of the event or the trading day before it (an event on a weekend
    or holiday blocks the trading day before it).
    """
    horizon = next_trading_day(today, trading_days)
    blocking = [event for event in events if today <= event.day <= horizon]
    return min(blocking, key=_chronological, default=None)


def next_events(events: Iterable[MacroEvent], today: date, n: int = 5) -> list[MacroEvent]:
    """Return the next `n` events on or after `today`, earliest first."""
    upcoming = sorted((event for event in events if event.day >= today), key=_chronological)
    return upcoming[: max(n, 0)]
