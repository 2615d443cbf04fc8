"""The event blackout: no new condor on the trading day before or the day of a macro event.

Rule (DESIGN.md section 2, "Macro calendar"): no new condor on the trading day before or the
day of a CPI, PPI or FOMC release. `strategies.signals.macro_calendar.blocks_new_condor` decides;
this module words the reason and lists the days an event blacks out (for `alvh events list`).

An event on a weekend or holiday blacks out the last trading day before it (that day is "the
trading day before"); the non-trading day itself needs no blackout. When the snapshot has no
trading day after today while an event is still ahead, the blackout cannot be checked and the
entry is skipped: a missing calendar never opens a condor into an event.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import date

from strategies.signals.macro_calendar import MacroEvent, blocks_new_condor

RULE = "no new condor on the trading day before or the day of a CPI, PPI or FOMC event"


def blackout_reason(
    events: Iterable[MacroEvent], today: date, trading_days: Sequence[date]
) -> str | None:
    """Return why no condor may be opened today because of a macro event, or None."""
    ahead = [event for event in events if event.day >= today]
    if not ahead:
        return None
    position = bisect.bisect_right(trading_days, today)
    if position == len(trading_days):
        return (
            f"no trading day after {today.isoformat()} in the snapshot's sessions: "
            "cannot check the macro event blackout"
        )
    event = blocks_new_condor(ahead, today, trading_days)
    if event is None:
        return None
    next_day = trading_days[position]
    if event.day == today:
        when = "today"
    elif event.day == next_day:
        when = "on the next trading day"
    else:
        when = f"before the next trading day ({next_day:%a %Y-%m-%d})"
    return (
        f"event blackout: {event.kind} {when} ({event.day:%a %Y-%m-%d} {event.time_et} ET); {RULE}"
    )


def blacked_out_days(event: MacroEvent, trading_days: Sequence[date]) -> tuple[date, ...]:
    """Return the trading days on which `event` blocks a new condor, in date order.

    These are the last trading day before the event and the event's day when it is a trading
    day; `trading_days` is sorted and must cover them (days outside it are left out).
    """
    position = bisect.bisect_left(trading_days, event.day)
    days = []
    if position > 0:
        days.append(trading_days[position - 1])
    if position < len(trading_days) and trading_days[position] == event.day:
        days.append(event.day)
    return tuple(days)
