"""reqHistoricalData: daily bars of SPX, VIX and AD-NYSE from the venue's history.

Modeling choices:
- Only bar size "1 day" of the three indexes; anything else gets error 162 (HMDS error).
- The duration counts calendar days back from the end ("30 D" is about 21 sessions, "1 M"
  31 days, "1 W" 7, "1 Y" 365, seconds round up to days), as IB does for daily bars.
- The end is the venue's clock when blank, else any of "YYYYMMDD HH:MM:SS TZ",
  "YYYYMMDD-HH:MM:SS" (UTC), "YYYYMMDD HH:MM:SS" (US/Eastern) or "YYYYMMDD" (that day's end).
- Only completed sessions are sent (the venue has no partial bar of today); VIX and AD-NYSE
  bars repeat their close as open, high and low (AD-NYSE: the session's net advances).
- Dates go out as YYYYMMDD whatever formatDate asks; volume, WAP and count are -1.
- keepUpToDate is answered like a one-off request (no updates follow).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from broker.calendar import NY
from broker.contracts import IndexContract

from .contract_lookup import ContractQuery, read_combo_legs, resolve_one
from .core import Client, GatewayCore
from .market_data import NO_DEFINITION
from .messages import Bar, error, historical_data
from .wire import FieldReader

HMDS_ERROR = "Historical Market Data Service error message:"
_UNIT_DAYS = {"S": 1 / 86400, "D": 1, "W": 7, "M": 31, "Y": 365}
_DURATION = re.compile(r"^\s*(\d+)\s*([SDWMY])\s*$", re.IGNORECASE)


def duration_days(text: str) -> int | None:
    """Return the calendar days a duration string spans, or None when it is invalid."""
    match = _DURATION.match(text)
    if not match:
        return None
    return max(1, math.ceil(int(match.group(1)) * _UNIT_DAYS[match.group(2).upper()]))


def end_instant(text: str, now: datetime) -> datetime | None:
    """Return the instant an endDateTime names (the clock when blank), or None if unreadable."""
    text = text.strip()
    if not text:
        return now
    try:
        if re.fullmatch(r"\d{8}", text):
            return datetime.combine(datetime.strptime(text, "%Y%m%d").date(), time.max, NY)
        if re.fullmatch(r"\d{8}-\d\d:\d\d:\d\d", text):
            return datetime.strptime(text, "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)
        day, clock, *zone = text.split()
        naive = datetime.strptime(f"{day} {clock}", "%Y%m%d %H:%M:%S")
        return naive.replace(tzinfo=ZoneInfo(zone[0]) if zone else NY)
    except (ValueError, KeyError):
        return None


async def req_historical_data(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """20: answer the daily bars of an index."""
    req_id = reader.integer()
    query = ContractQuery.read(reader)
    reader.skip(1)  # includeExpired
    end_text, bar_size, duration = reader.text(), reader.text(), reader.text()
    reader.skip(1)  # useRTH
    what_to_show = reader.text().upper()
    reader.skip(1)  # formatDate
    if query.sec_type == "BAG":
        read_combo_legs(reader, with_order_fields=False)
    target = await resolve_one(query, core.exchange, core.registry)
    if target is None:
        client.send(error(req_id, 200, NO_DEFINITION))
        return
    now = core.now()
    days = duration_days(duration)
    end = end_instant(end_text, now)
    problem = _problem(target, bar_size, what_to_show, days, end)
    if problem or days is None or end is None:
        client.send(error(req_id, 162, HMDS_ERROR + (problem or "invalid request")))
        return
    assert isinstance(target, IndexContract)
    end_day = min(end, now).astimezone(NY).date()
    first_day = end_day - timedelta(days=days)
    span = (now.astimezone(NY).date() - first_day).days + 1
    bars = [b for b in await core.exchange.daily_bars(target, span) if first_day < b.day <= end_day]
    start_text = f"{first_day + timedelta(days=1):%Y%m%d} 00:00:00"
    finish_text = min(end, now).astimezone(NY).strftime("%Y%m%d %H:%M:%S")
    sent = [Bar(_day(b.day), b.open, b.high, b.low, b.close) for b in bars]
    client.send(historical_data(req_id, start_text, finish_text, sent))


def _day(day: date) -> str:
    return day.strftime("%Y%m%d")


def _problem(
    target: object, bar_size: str, what: str, days: int | None, end: datetime | None
) -> str | None:
    if not isinstance(target, IndexContract):
        return "the fake gateway has daily bars of SPX, VIX and AD-NYSE only"
    if " ".join(bar_size.lower().split()) not in ("1 day", "1 d"):
        return f"bar size {bar_size!r} is not supported (only '1 day')"
    if what == "SCHEDULE":
        return "SCHEDULE is not supported"
    if days is None:
        return "invalid duration"
    if end is None:
        return "invalid end date/time"
    return None
