from datetime import date, datetime, timedelta

import pytest

from broker.calendar import NY, default_calendar
from broker.sim.history import DailyBar, DailyHistory
from broker.sim.intraday import VIX_FLOOR, intraday_level, intraday_path

OPEN = datetime(2018, 6, 14, 9, 30, tzinfo=NY)
CLOSE = datetime(2018, 6, 14, 16, 15, tzinfo=NY)

UP = DailyBar(
    day=date(2018, 6, 14),
    open=2750.0,
    high=2790.0,
    low=2730.0,
    close=2780.0,
    vix_close=12.0,
    prev_close=2745.0,
    prev_vix_close=13.0,
)
DOWN = DailyBar(
    day=date(2018, 6, 14),
    open=2750.0,
    high=2760.0,
    low=2690.0,
    close=2700.0,
    vix_close=18.0,
    prev_close=2755.0,
    prev_vix_close=13.0,
)


def minutes(start: datetime, end: datetime) -> list[datetime]:
    out = []
    t = start
    while t <= end:
        out.append(t)
        t += timedelta(minutes=1)
    return out


@pytest.mark.parametrize("bar", [UP, DOWN], ids=["up", "down"])
def test_hits_knots_exactly(bar: DailyBar) -> None:
    knots = intraday_path(bar, OPEN, CLOSE)
    (t0, v0), (t1, v1), (t2, v2), (t3, v3) = knots
    assert (t0, v0) == (OPEN, bar.open)
    assert (t3, v3) == (CLOSE, bar.close)
    assert OPEN < t1 < t2 < CLOSE
    assert {v1, v2} == {bar.low, bar.high}
    assert intraday_level(bar, OPEN, CLOSE, OPEN)[0] == bar.open
    assert intraday_level(bar, OPEN, CLOSE, t1)[0] == v1
    assert intraday_level(bar, OPEN, CLOSE, t2)[0] == v2
    assert intraday_level(bar, OPEN, CLOSE, CLOSE) == (bar.close, bar.vix_close)
    # extremes fall on whole minutes, inside their windows
    for t in (t1, t2):
        assert t.second == 0 and t.microsecond == 0
    length = CLOSE - OPEN
    assert 0.09 * length <= t1 - OPEN <= 0.46 * length
    assert 0.54 * length <= t2 - OPEN <= 0.91 * length


def test_extreme_order_follows_direction() -> None:
    (_, _), (_, up1), (_, up2), _ = intraday_path(UP, OPEN, CLOSE)
    assert (up1, up2) == (UP.low, UP.high)
    (_, _), (_, dn1), (_, dn2), _ = intraday_path(DOWN, OPEN, CLOSE)
    assert (dn1, dn2) == (DOWN.high, DOWN.low)


@pytest.mark.parametrize("bar", [UP, DOWN], ids=["up", "down"])
def test_path_stays_in_range_and_vix_mirrors(bar: DailyBar) -> None:
    spx_min, spx_max = float("inf"), float("-inf")
    at_low_vix = at_high_vix = None
    for t in minutes(OPEN, CLOSE):
        spx, vix = intraday_level(bar, OPEN, CLOSE, t)
        assert bar.low <= spx <= bar.high
        assert vix >= VIX_FLOOR
        spx_min, spx_max = min(spx_min, spx), max(spx_max, spx)
        if spx == bar.low:
            at_low_vix = vix
        if spx == bar.high:
            at_high_vix = vix
    assert spx_min == bar.low and spx_max == bar.high
    assert at_low_vix is not None and at_high_vix is not None
    assert at_low_vix > at_high_vix  # VIX is higher when SPX sits at its low


def test_before_open_and_after_close() -> None:
    before = OPEN - timedelta(seconds=1)
    assert intraday_level(UP, OPEN, CLOSE, before) == (UP.prev_close, UP.prev_vix_close)
    midnight = datetime(2018, 6, 14, 0, 0, tzinfo=NY)
    assert intraday_level(UP, OPEN, CLOSE, midnight) == (UP.prev_close, UP.prev_vix_close)
    after = CLOSE + timedelta(hours=3)
    assert intraday_level(UP, OPEN, CLOSE, after) == (UP.close, UP.vix_close)
    # VIX is continuous into the close
    _, vix_late = intraday_level(UP, OPEN, CLOSE, CLOSE - timedelta(microseconds=1))
    assert vix_late == pytest.approx(UP.vix_close, abs=1e-6)


def test_gap_moves_vix_at_open() -> None:
    gap_down = DailyBar(
        day=date(2018, 2, 6),
        open=2600.0,
        high=2650.0,
        low=2590.0,
        close=2640.0,
        vix_close=25.0,
        prev_close=2650.0,
        prev_vix_close=20.0,
    )
    _, vix_open = intraday_level(gap_down, OPEN, CLOSE, OPEN)
    assert vix_open > gap_down.prev_vix_close


def test_deterministic_and_date_dependent() -> None:
    t = OPEN + timedelta(minutes=137, seconds=12)
    assert intraday_level(UP, OPEN, CLOSE, t) == intraday_level(UP, OPEN, CLOSE, t)
    intraday_path.cache_clear()
    knots_a = intraday_path(UP, OPEN, CLOSE)
    intraday_path.cache_clear()
    assert intraday_path(UP, OPEN, CLOSE) == knots_a
    other = DailyBar(
        day=date(2018, 6, 15),
        open=UP.open,
        high=UP.high,
        low=UP.low,
        close=UP.close,
        vix_close=UP.vix_close,
        prev_close=UP.prev_close,
        prev_vix_close=UP.prev_vix_close,
    )
    shift = timedelta(days=1)
    knots_b = intraday_path(other, OPEN + shift, CLOSE + shift)
    assert (knots_a[1][0] + shift, knots_a[2][0] + shift) != (knots_b[1][0], knots_b[2][0])


def test_flat_day() -> None:
    flat = DailyBar(
        day=date(2018, 6, 14),
        open=100.0,
        high=100.0,
        low=100.0,
        close=100.0,
        vix_close=15.0,
        prev_close=100.0,
        prev_vix_close=15.0,
    )
    for t in minutes(OPEN, CLOSE)[::17]:
        assert intraday_level(flat, OPEN, CLOSE, t) == (100.0, 15.0)


def test_bad_session_raises() -> None:
    with pytest.raises(ValueError):
        intraday_path(UP, CLOSE, OPEN)


def test_real_history_with_calendar_sessions() -> None:
    hist = DailyHistory.from_arch(date(2018, 1, 1), date(2018, 12, 31))
    cal = default_calendar()
    early = 0
    for day in hist.days():
        session = cal.session(day)
        assert session is not None, day
        early += session.close.hour == 13
        bar = hist.bar(day)
        (_, _), (t1, _), (t2, _), _ = intraday_path(bar, session.open, session.close)
        assert session.open < t1 < t2 < session.close
        for t in (session.open, t1, t2, session.close):
            spx, vix = intraday_level(bar, session.open, session.close, t)
            assert bar.low <= spx <= bar.high
            assert vix >= VIX_FLOOR
        for t in (t1, t2):
            spx, _ = intraday_level(bar, session.open, session.close, t)
            assert spx in (bar.low, bar.high)
    assert early == 3  # 2018-07-03, 2018-11-23, 2018-12-24
