from datetime import date, datetime, time, timedelta

import pytest

from broker.calendar import NY, Session, TradingCalendar, default_calendar, monthly_expiry


@pytest.fixture(scope="module")
def cal() -> TradingCalendar:
    return default_calendar()


def test_default_calendar_is_cached() -> None:
    assert default_calendar() is default_calendar()


def test_weekends_and_mlk_are_not_trading_days(cal: TradingCalendar) -> None:
    assert not cal.is_trading_day(date(2018, 1, 13))  # Saturday
    assert not cal.is_trading_day(date(2018, 1, 14))  # Sunday
    assert not cal.is_trading_day(date(2018, 1, 15))  # MLK day
    assert cal.is_trading_day(date(2018, 1, 12))
    assert cal.is_trading_day(date(2018, 1, 16))
    assert cal.session(date(2018, 1, 15)) is None


def test_other_holidays(cal: TradingCalendar) -> None:
    assert not cal.is_trading_day(date(2018, 3, 30))  # Good Friday
    assert not cal.is_trading_day(date(2018, 12, 5))  # G.H.W. Bush day of mourning
    assert not cal.is_trading_day(date(2026, 6, 19))  # Juneteenth
    assert not cal.is_trading_day(date(2012, 10, 29))  # Hurricane Sandy
    for d in (11, 12, 13, 14):  # September 11 closure (corrected)
        assert not cal.is_trading_day(date(2001, 9, d))
    assert cal.is_trading_day(date(2001, 9, 10))
    assert cal.is_trading_day(date(2001, 9, 17))


def test_trading_days_2018(cal: TradingCalendar) -> None:
    days = cal.trading_days(date(2018, 1, 1), date(2018, 12, 31))
    assert len(days) == 251
    assert days[0] == date(2018, 1, 2)
    assert days[-1] == date(2018, 12, 31)
    assert days == sorted(days)
    assert cal.trading_days_between(date(2017, 12, 31), date(2018, 12, 31)) == 251


def test_regular_session(cal: TradingCalendar) -> None:
    s = cal.session(date(2018, 6, 14))
    assert s == Session(
        day=date(2018, 6, 14),
        open=datetime(2018, 6, 14, 9, 30, tzinfo=NY),
        close=datetime(2018, 6, 14, 16, 15, tzinfo=NY),
    )
    assert s is not None
    assert s.open.utcoffset() == timedelta(hours=-4)  # EDT
    assert not s.early_close
    winter = cal.session(date(2018, 1, 16))
    assert winter is not None
    assert winter.open.utcoffset() == timedelta(hours=-5)  # EST
    assert winter.close.timetz().replace(tzinfo=None) == time(16, 15)


def test_early_close_after_thanksgiving(cal: TradingCalendar) -> None:
    s = cal.session(date(2018, 11, 23))
    assert s is not None
    assert s.open == datetime(2018, 11, 23, 9, 30, tzinfo=NY)
    assert s.close == datetime(2018, 11, 23, 13, 15, tzinfo=NY)
    assert s.early_close


def test_early_close_july_3_and_christmas_eve(cal: TradingCalendar) -> None:
    july3 = cal.session(date(2018, 7, 3))
    xmas_eve = cal.session(date(2018, 12, 24))
    assert july3 is not None and xmas_eve is not None
    assert july3.close == datetime(2018, 7, 3, 13, 15, tzinfo=NY)
    assert xmas_eve.close == datetime(2018, 12, 24, 13, 15, tzinfo=NY)


def test_next_and_previous_trading_day(cal: TradingCalendar) -> None:
    assert cal.next_trading_day(date(2018, 1, 12)) == date(2018, 1, 16)  # over MLK weekend
    assert cal.next_trading_day(date(2018, 1, 13)) == date(2018, 1, 16)
    assert cal.previous_trading_day(date(2018, 1, 16)) == date(2018, 1, 12)
    assert cal.previous_trading_day(date(2018, 4, 2)) == date(2018, 3, 29)  # Good Friday
    assert cal.next_trading_day(date(2018, 3, 29)) == date(2018, 4, 2)


def test_trading_days_between(cal: TradingCalendar) -> None:
    assert cal.trading_days_between(date(2018, 1, 12), date(2018, 1, 16)) == 1
    assert cal.trading_days_between(date(2018, 1, 16), date(2018, 1, 16)) == 0
    assert cal.trading_days_between(date(2018, 1, 8), date(2018, 1, 12)) == 4
    assert cal.trading_days_between(date(2018, 1, 12), date(2018, 1, 8)) == -4


def test_spxw_expiries_good_friday(cal: TradingCalendar) -> None:
    expiries = cal.spxw_expiries(date(2018, 3, 19), date(2018, 4, 13))
    assert expiries == [
        date(2018, 3, 23),
        date(2018, 3, 29),  # Good Friday 2018-03-30 -> Thursday
        date(2018, 4, 6),
        date(2018, 4, 13),
    ]
    # a range ending on the Thursday still sees the moved expiry
    assert cal.spxw_expiries(date(2018, 3, 29), date(2018, 3, 29)) == [date(2018, 3, 29)]
    assert cal.spxw_expiries(date(2018, 3, 30), date(2018, 4, 5)) == []


def test_spxw_expiries_are_trading_days_one_per_week(cal: TradingCalendar) -> None:
    expiries = cal.spxw_expiries(date(2010, 1, 1), date(2026, 12, 31))
    assert all(cal.is_trading_day(d) for d in expiries)
    assert all(d.weekday() <= 4 for d in expiries)
    weeks = [d.isocalendar()[:2] for d in expiries]
    assert len(weeks) == len(set(weeks))
    assert sum(1 for d in expiries if d.weekday() != 4) > 10  # holiday Fridays exist


def test_monthly_expiry() -> None:
    assert monthly_expiry(2018, 3) == date(2018, 3, 16)
    assert monthly_expiry(2018, 6) == date(2018, 6, 15)
    assert monthly_expiry(2026, 6) == date(2026, 6, 18)  # Juneteenth Friday -> Thursday
    assert monthly_expiry(2014, 4) == date(2014, 4, 17)  # Good Friday 2014-04-18
    assert default_calendar().monthly_expiry(2026, 6) == date(2026, 6, 18)


def test_out_of_range_raises() -> None:
    small = TradingCalendar(date(2018, 1, 1), date(2018, 12, 31))
    with pytest.raises(ValueError):
        small.is_trading_day(date(2019, 1, 5))
    with pytest.raises(ValueError):
        small.next_trading_day(date(2018, 12, 31))
    with pytest.raises(ValueError):
        small.previous_trading_day(date(2018, 1, 2))
    assert small.trading_days(date(2017, 1, 1), date(2030, 1, 1))[0] == date(2018, 1, 2)
