from datetime import date, timedelta

import pytest

from broker.calendar import TradingCalendar, default_calendar
from broker.vix_calendar import (
    trading_days_to_expiry,
    vix_expiries,
    vix_expiry,
    vix_futures_months,
)

TUESDAY, WEDNESDAY, FRIDAY = 1, 2, 4


@pytest.fixture(scope="module")
def cal() -> TradingCalendar:
    return default_calendar()


class _ExtraHolidays(TradingCalendar):
    """A 2018-2019 CBOE calendar with additional, made-up closures."""

    def __init__(self, closed: frozenset[date]) -> None:
        super().__init__(date(2018, 1, 1), date(2019, 12, 31))
        self._closed = closed

    def is_trading_day(self, day: date) -> bool:
        return day not in self._closed and super().is_trading_day(day)

    def previous_trading_day(self, day: date) -> date:
        prev = super().previous_trading_day(day)
        while prev in self._closed:
            prev = super().previous_trading_day(prev)
        return prev


def test_calendar_knows_the_relevant_holidays(cal: TradingCalendar) -> None:
    assert not cal.is_trading_day(date(2025, 4, 18))  # Good Friday 2025
    assert not cal.is_trading_day(date(2026, 6, 19))  # Juneteenth 2026 (Friday)
    assert not cal.is_trading_day(date(2027, 6, 18))  # Juneteenth 2027, observed Friday
    assert not cal.is_trading_day(date(2024, 6, 19))  # Juneteenth 2024 (Wednesday)
    assert cal.is_trading_day(date(2021, 6, 18))  # before Juneteenth became a holiday


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2018, 1, date(2018, 1, 17)),
        (2018, 2, date(2018, 2, 14)),
        (2018, 12, date(2018, 12, 19)),  # December contract: uses January 2019's Friday
        (2019, 12, date(2019, 12, 18)),
        (2014, 3, date(2014, 3, 18)),  # Good Friday 2014-04-18
        (2019, 3, date(2019, 3, 19)),  # Good Friday 2019-04-19
        (2022, 3, date(2022, 3, 15)),  # Good Friday 2022-04-15
        (2025, 3, date(2025, 3, 18)),  # Good Friday 2025-04-18
        (2026, 5, date(2026, 5, 19)),  # Juneteenth 2026-06-19
        (2027, 5, date(2027, 5, 18)),  # Juneteenth 2027 observed 2027-06-18
        (2024, 6, date(2024, 6, 18)),  # the Wednesday itself is Juneteenth 2024-06-19
        (2021, 5, date(2021, 5, 19)),  # 2021-06-18 was not yet a holiday
    ],
)
def test_known_expiries(year: int, month: int, expected: date) -> None:
    assert vix_expiry(year, month) == expected


def test_full_year_2018(cal: TradingCalendar) -> None:
    got = vix_expiries(date(2018, 1, 1), date(2018, 12, 31), cal)
    assert [(d.month, d.day) for d in got] == [
        (1, 17), (2, 14), (3, 21), (4, 18), (5, 16), (6, 20),
        (7, 18), (8, 22), (9, 19), (10, 17), (11, 21), (12, 19),
    ]  # fmt: skip


def test_every_expiry_2014_2027_is_a_tuesday_or_wednesday_trading_day(
    cal: TradingCalendar,
) -> None:
    moved: list[tuple[int, int]] = []
    for year in range(2014, 2028):
        for month in range(1, 13):
            expiry = vix_expiry(year, month, cal)
            assert (expiry.year, expiry.month) == (year, month)
            assert expiry.weekday() in (TUESDAY, WEDNESDAY)
            assert cal.is_trading_day(expiry)
            if expiry.weekday() == WEDNESDAY:
                friday = expiry + timedelta(days=30)
                assert friday.weekday() == FRIDAY and 15 <= friday.day <= 21
                assert cal.is_trading_day(friday)
            else:
                moved.append((year, month))
    assert moved == [
        (2014, 3), (2019, 3), (2022, 3), (2024, 6), (2025, 3), (2026, 5), (2027, 5),
    ]  # fmt: skip


def test_holiday_check_uses_the_given_calendar() -> None:
    # A closed Wednesday moves the expiry to the Tuesday.
    closed_wed = _ExtraHolidays(frozenset({date(2018, 2, 14)}))
    assert vix_expiry(2018, 2, closed_wed) == date(2018, 2, 13)
    # A closed settlement Friday (2018-03-16) also moves it.
    closed_fri = _ExtraHolidays(frozenset({date(2018, 3, 16)}))
    assert vix_expiry(2018, 2, closed_fri) == date(2018, 2, 13)
    # Wednesday and Tuesday closed: the preceding business day is Monday 2018-02-12.
    closed_two = _ExtraHolidays(frozenset({date(2018, 2, 13), date(2018, 2, 14)}))
    assert vix_expiry(2018, 2, closed_two) == date(2018, 2, 12)
    # An unrelated closure changes nothing.
    unrelated = _ExtraHolidays(frozenset({date(2018, 2, 15)}))
    assert vix_expiry(2018, 2, unrelated) == date(2018, 2, 14)


def test_default_calendar_is_used_when_none(cal: TradingCalendar) -> None:
    assert vix_expiry(2025, 3) == vix_expiry(2025, 3, cal) == date(2025, 3, 18)
    assert vix_expiries(date(2025, 1, 1), date(2025, 6, 30)) == vix_expiries(
        date(2025, 1, 1), date(2025, 6, 30), cal
    )


def test_invalid_month_and_out_of_range() -> None:
    with pytest.raises(ValueError):
        vix_expiry(2018, 13)
    with pytest.raises(ValueError):
        vix_expiry(2018, 0)
    # December 2030 needs the third Friday of January 2031, beyond the default range.
    assert vix_expiry(2030, 11) == date(2030, 11, 20)
    with pytest.raises(ValueError):
        vix_expiry(2030, 12)


def test_vix_expiries_ascending_one_per_month(cal: TradingCalendar) -> None:
    got = vix_expiries(date(2014, 1, 1), date(2027, 12, 31), cal)
    assert len(got) == 14 * 12
    assert got == sorted(set(got))
    assert [(d.year, d.month) for d in got] == [
        (y, m) for y in range(2014, 2028) for m in range(1, 13)
    ]


def test_vix_expiries_bounds_are_inclusive(cal: TradingCalendar) -> None:
    assert vix_expiries(date(2018, 2, 14), date(2018, 3, 21), cal) == [
        date(2018, 2, 14),
        date(2018, 3, 21),
    ]
    assert vix_expiries(date(2018, 2, 15), date(2018, 3, 20), cal) == []
    assert vix_expiries(date(2018, 2, 13), date(2018, 2, 13), cal) == []
    assert vix_expiries(date(2018, 3, 1), date(2018, 2, 1), cal) == []
    # Starting mid-month after the expiry skips that month.
    assert vix_expiries(date(2018, 1, 18), date(2018, 2, 28), cal) == [date(2018, 2, 14)]


@pytest.mark.parametrize(
    "today",
    [date(2018, 2, 1), date(2018, 2, 13), date(2018, 2, 14), date(2018, 12, 20), date(2025, 3, 18)],
)
def test_vix_futures_months_shape(today: date, cal: TradingCalendar) -> None:
    months = vix_futures_months(today, calendar=cal)
    assert len(months) == 8
    assert [n for _, n in months] == list(range(1, 9))
    expiries = [e for e, _ in months]
    assert all(e > today for e in expiries)
    assert expiries == sorted(set(expiries))
    # Consecutive contract months, and M1 is the first expiry after today.
    first = vix_expiries(today + timedelta(days=1), expiries[-1], cal)
    assert first == expiries


def test_vix_futures_months_switches_on_expiry_day(cal: TradingCalendar) -> None:
    before = vix_futures_months(date(2018, 2, 13), 3, cal)
    on = vix_futures_months(date(2018, 2, 14), 3, cal)
    assert before == [(date(2018, 2, 14), 1), (date(2018, 3, 21), 2), (date(2018, 4, 18), 3)]
    assert on == [(date(2018, 3, 21), 1), (date(2018, 4, 18), 2), (date(2018, 5, 16), 3)]
    # A Tuesday expiry (Good Friday 2025) switches on the Tuesday, not the Wednesday.
    assert vix_futures_months(date(2025, 3, 17), 1, cal) == [(date(2025, 3, 18), 1)]
    assert vix_futures_months(date(2025, 3, 18), 1, cal) == [(date(2025, 4, 16), 1)]
    # Across the year end.
    assert vix_futures_months(date(2018, 12, 20), 2, cal) == [
        (date(2019, 1, 16), 1),
        (date(2019, 2, 13), 2),
    ]


def test_vix_futures_months_default_calendar_and_bad_count() -> None:
    assert vix_futures_months(date(2018, 2, 1), 2) == [
        (date(2018, 2, 14), 1),
        (date(2018, 3, 21), 2),
    ]
    with pytest.raises(ValueError):
        vix_futures_months(date(2018, 2, 1), 0)


def test_trading_days_to_expiry(cal: TradingCalendar) -> None:
    feb = date(2018, 2, 14)
    # Feb 1, 2, 5, 6, 7, 8, 9, 12, 13, 14: ten sessions, no holiday in between.
    assert trading_days_to_expiry(date(2018, 1, 31), feb, cal) == 10
    assert trading_days_to_expiry(date(2018, 2, 1), feb) == 9
    assert trading_days_to_expiry(feb, feb, cal) == 0
    assert trading_days_to_expiry(date(2018, 2, 15), feb, cal) == -1
    # Feb 14 -> Mar 21 skips Presidents' Day (Feb 19): 9 sessions in Feb + 15 in March.
    assert trading_days_to_expiry(feb, date(2018, 3, 21), cal) == 24
    # A weekend counts nothing: Friday Feb 9 -> Monday Feb 12 is one session.
    assert trading_days_to_expiry(date(2018, 2, 9), date(2018, 2, 12), cal) == 1
    # The roll day (10 sessions out) of the February contract is January 31.
    roll = [d for d in cal.trading_days(date(2018, 1, 1), feb)
            if trading_days_to_expiry(d, feb, cal) == 10]  # fmt: skip
    assert roll == [date(2018, 1, 31)]


def test_trading_days_to_expiry_out_of_range() -> None:
    with pytest.raises(ValueError):
        trading_days_to_expiry(date(1990, 1, 2), date(2018, 2, 14))
    with pytest.raises(ValueError):
        trading_days_to_expiry(date(2018, 2, 1), date(2031, 2, 14))
