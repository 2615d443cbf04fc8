"""macro_calendar.py: parsing the events CSV with clear errors, the entry block, next events."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from strategies.signals.macro_calendar import (
    MacroEvent,
    blocks_new_condor,
    next_events,
    parse_macro_events,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG_CSV = ROOT / "config" / "macro_events.csv"
SHARED_CSV = ROOT.parent / "shared" / "data" / "macro_events.csv"
HEADER = "date,event,time_et,status,source\n"


def weekdays(start: date, end: date, holidays: tuple[date, ...] = ()) -> list[date]:
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return [day for day in days if day.weekday() < 5 and day not in holidays]


def event(day: date, kind: str = "CPI", time_et: str = "08:30") -> MacroEvent:
    return MacroEvent(day, kind, time_et, "unverified", "test")


def test_shipped_file_parses_with_its_statuses() -> None:
    events = parse_macro_events(CONFIG_CSV.read_text(encoding="utf-8"))
    assert len(events) == 214
    assert {e.kind for e in events} == {"CPI", "PPI", "FOMC"}
    assert {"agreed-by-several-lists", "unverified"} <= {e.status for e in events}
    assert events[0] == MacroEvent(
        date(2014, 1, 16),
        "CPI",
        "08:30",
        "agreed-by-several-lists",
        "US Bureau of Labor Statistics release schedule (copies)",
    )
    assert min(e.day for e in events).year == 2014


@pytest.mark.skipif(not SHARED_CSV.exists(), reason="the shared data folder is not present")
def test_shipped_file_is_an_exact_copy_of_the_shared_facts() -> None:
    assert CONFIG_CSV.read_bytes() == SHARED_CSV.read_bytes()


def test_cells_are_trimmed_and_a_byte_order_mark_is_ignored() -> None:
    text = "\ufeffdate, event ,time_et,status,source\n 2024-01-11 , CPI ,08:30, bls-schedule ,BLS\n"
    assert parse_macro_events(text) == [
        MacroEvent(date(2024, 1, 11), "CPI", "08:30", "bls-schedule", "BLS")
    ]


def test_blank_lines_are_skipped_and_counted() -> None:
    text = HEADER + "\n2024-01-11,CPI,08:30,ok,BLS\n\n2024-13-01,PPI,08:30,ok,BLS\n"
    with pytest.raises(ValueError, match=r"^line 5, column date: '2024-13-01' is not a date"):
        parse_macro_events(text)


@pytest.mark.parametrize("bad", ["2024/01/11", "20240111", "11-01-2024", "", "2024-02-30"])
def test_a_bad_date_names_its_line_and_column(bad: str) -> None:
    text = HEADER + "2024-01-11,CPI,08:30,ok,BLS\n" + f"{bad},FOMC,14:00,ok,Fed\n"
    with pytest.raises(ValueError, match=r"^line 3, column date: .*expected YYYY-MM-DD"):
        parse_macro_events(text)


@pytest.mark.parametrize("bad", ["NFP", "cpi", ""])
def test_an_unknown_event_names_its_line_and_column(bad: str) -> None:
    with pytest.raises(ValueError, match=r"^line 2, column event: unknown event .*CPI, FOMC, PPI"):
        parse_macro_events(HEADER + f"2024-01-11,{bad},08:30,ok,BLS\n")


@pytest.mark.parametrize("bad", ["8:30", "24:00", "", "noon"])
def test_a_bad_time_names_its_line_and_column(bad: str) -> None:
    with pytest.raises(ValueError, match=r"^line 2, column time_et: .*expected HH:MM"):
        parse_macro_events(HEADER + f"2024-01-11,CPI,{bad},ok,BLS\n")


@pytest.mark.parametrize("column", ["date", "event", "time_et", "status", "source"])
def test_a_missing_column_is_named(column: str) -> None:
    header = ",".join(name for name in HEADER.strip().split(",") if name != column)
    with pytest.raises(ValueError, match=rf"^line 1, column {column}: missing column"):
        parse_macro_events(header + "\n")


def test_empty_text_reports_the_first_missing_column() -> None:
    with pytest.raises(ValueError, match=r"^line 1, column date: missing column"):
        parse_macro_events("")


def test_a_row_with_too_many_cells_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^line 2, column 6: more cells than the 5 columns"):
        parse_macro_events(HEADER + "2024-01-11,CPI,08:30,ok,BLS,extra\n")


def test_a_duplicate_event_is_refused() -> None:
    text = HEADER + "2024-01-11,CPI,08:30,ok,BLS\n2024-01-11,CPI,08:30,ok,BLS\n"
    with pytest.raises(ValueError, match=r"^line 3, column event: duplicate CPI on 2024-01-11"):
        parse_macro_events(text)


def test_cpi_and_fomc_on_the_same_day_are_both_kept() -> None:
    text = HEADER + "2014-09-17,CPI,08:30,ok,BLS\n2014-09-17,FOMC,14:00,ok,Fed\n"
    assert [e.kind for e in parse_macro_events(text)] == ["CPI", "FOMC"]


JAN_2024 = weekdays(date(2024, 1, 2), date(2024, 2, 29), holidays=(date(2024, 1, 15),))


@pytest.mark.parametrize(
    ("today", "blocked"),
    [
        (date(2024, 1, 8), False),  # Monday: the event is two trading days away
        (date(2024, 1, 9), True),  # Tuesday: the trading day before
        (date(2024, 1, 10), True),  # Wednesday: the day of
        (date(2024, 1, 11), False),  # Thursday: the day after
    ],
)
def test_blocks_the_trading_day_before_and_the_day_of(today: date, blocked: bool) -> None:
    fomc = event(date(2024, 1, 10), "FOMC", "14:00")
    assert blocks_new_condor([fomc], today, JAN_2024) == (fomc if blocked else None)


def test_a_monday_event_blocks_the_friday_before() -> None:
    monday = event(date(2024, 1, 22))
    assert blocks_new_condor([monday], date(2024, 1, 19), JAN_2024) == monday
    assert blocks_new_condor([monday], date(2024, 1, 18), JAN_2024) is None


def test_a_tuesday_event_after_a_holiday_blocks_the_friday_before() -> None:
    tuesday = event(date(2024, 1, 16))
    assert blocks_new_condor([tuesday], date(2024, 1, 12), JAN_2024) == tuesday


def test_an_event_on_a_non_trading_day_blocks_the_trading_day_before() -> None:
    saturday = event(date(2024, 1, 20))
    assert blocks_new_condor([saturday], date(2024, 1, 19), JAN_2024) == saturday
    assert blocks_new_condor([saturday], date(2024, 1, 22), JAN_2024) is None


def test_the_earliest_blocking_event_is_returned() -> None:
    cpi = event(date(2024, 1, 11), "CPI", "08:30")
    fomc = event(date(2024, 1, 11), "FOMC", "14:00")
    ppi = event(date(2024, 1, 12), "PPI", "08:30")
    assert blocks_new_condor([ppi, fomc, cpi], date(2024, 1, 11), JAN_2024) == cpi


def test_shipped_calendar_blocks_around_the_january_2018_cpi() -> None:
    events = parse_macro_events(CONFIG_CSV.read_text(encoding="utf-8"))
    days = weekdays(date(2018, 1, 2), date(2018, 2, 28), holidays=(date(2018, 1, 15),))
    assert blocks_new_condor(events, date(2018, 1, 10), days) is None
    blocking = blocks_new_condor(events, date(2018, 1, 11), days)
    assert blocking is not None and (blocking.day, blocking.kind) == (date(2018, 1, 12), "CPI")
    assert blocks_new_condor(events, date(2018, 1, 16), days) is None


def test_a_calendar_that_ends_too_soon_is_an_error() -> None:
    with pytest.raises(ValueError, match="trading_days has no day after 2024-02-29"):
        blocks_new_condor([], date(2024, 2, 29), JAN_2024)


def test_next_events_are_the_earliest_on_or_after_today() -> None:
    past = event(date(2024, 1, 3))
    today = event(date(2024, 1, 11), "FOMC", "14:00")
    same_day_earlier = event(date(2024, 1, 11), "CPI", "08:30")
    later = event(date(2024, 2, 1), "PPI")
    events = [later, today, past, same_day_earlier]
    assert next_events(events, date(2024, 1, 11), 2) == [same_day_earlier, today]
    assert next_events(events, date(2024, 1, 11), 10) == [same_day_earlier, today, later]
    assert next_events(events, date(2024, 1, 11), 0) == []
    assert next_events(events, date(2024, 3, 1), 3) == []


def test_a_header_after_blank_lines_is_reported_on_its_own_line() -> None:
    with pytest.raises(ValueError, match=r"^line 3, column source: missing column"):
        parse_macro_events("\n\ndate,event,time_et,status\n")
    with pytest.raises(ValueError, match=r"^line 4, column event: unknown"):
        parse_macro_events("\n\n" + HEADER + "2024-01-11,NFP,08:30,ok,BLS\n")


def test_extra_cells_on_an_otherwise_empty_row_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^line 2, column 6: more cells"):
        parse_macro_events(HEADER + ",,,,,stray\n")
