import itertools
from datetime import date

import numpy as np
import pandas as pd
import pytest

from broker.errors import MarketDataEnded
from broker.sim.history import DailyHistory


@pytest.fixture(scope="module")
def hist() -> DailyHistory:
    return DailyHistory.from_arch()


def test_range_and_counts(hist: DailyHistory) -> None:
    assert hist.first_day == date(2014, 1, 3)
    assert hist.last_day == date(2018, 12, 31)
    assert len(hist.days()) == 1257
    days_2018 = [d for d in hist.days() if d.year == 2018]
    assert len(days_2018) == 251
    assert hist.days() == sorted(set(hist.days()))
    assert hist.repairs == 0


def test_no_nan_and_ohlc_sane(hist: DailyHistory) -> None:
    for d in hist.days():
        b = hist.bar(d)
        values = (b.open, b.high, b.low, b.close, b.vix_close, b.prev_close, b.prev_vix_close)
        assert all(np.isfinite(v) and v > 0 for v in values), b
        assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high, b


def test_holidays_absent(hist: DailyHistory) -> None:
    assert not hist.has(date(2018, 1, 15))  # MLK: VIX row was "."
    assert not hist.has(date(2018, 12, 5))
    assert not hist.has(date(2018, 12, 29))  # Saturday
    assert hist.has(date(2018, 12, 28))


def test_known_bar(hist: DailyHistory) -> None:
    b = hist.bar(date(2018, 12, 31))
    assert b.vix_close == pytest.approx(25.42)
    assert b.prev_vix_close == pytest.approx(28.34)
    assert b.close == pytest.approx(2506.85, abs=0.01)
    assert b.prev_close == pytest.approx(hist.bar(date(2018, 12, 28)).close)


def test_prev_close_chain(hist: DailyHistory) -> None:
    days = hist.days()
    for a, b in itertools.pairwise(days):
        assert hist.bar(b).prev_close == hist.bar(a).close
        assert hist.bar(b).prev_vix_close == hist.bar(a).vix_close


def test_first_day_prev_values() -> None:
    full = DailyHistory.from_arch()
    first = full.bar(full.first_day)
    # SPX has earlier history (2014-01-02); VIX starts on 2014-01-03 itself.
    assert first.prev_close != first.open
    assert first.prev_vix_close == first.vix_close
    # restriction keeps the real previous close from the full data
    sub = DailyHistory.from_arch(date(2018, 1, 1), date(2018, 12, 31))
    assert sub.first_day == date(2018, 1, 2)
    assert sub.bar(sub.first_day).prev_close == full.bar(date(2017, 12, 29)).close
    assert sub.bar(sub.first_day).prev_vix_close == full.bar(date(2017, 12, 29)).vix_close


def test_bar_out_of_range_raises(hist: DailyHistory) -> None:
    with pytest.raises(MarketDataEnded) as info:
        hist.bar(date(2019, 1, 2))
    msg = str(info.value)
    assert "2019-01-02" in msg
    assert "2014-01-03..2018-12-31" in msg
    with pytest.raises(MarketDataEnded):
        hist.bar(date(2010, 1, 4))
    with pytest.raises(MarketDataEnded):
        hist.bar(date(2018, 1, 15))


def test_empty_restriction_raises() -> None:
    with pytest.raises(MarketDataEnded, match=r"2014-01-03\.\.2018-12-31"):
        DailyHistory.from_arch(date(2020, 1, 1), date(2020, 12, 31))


def test_closes(hist: DailyHistory) -> None:
    days, spx, vix = hist.closes(date(2018, 12, 31), 5)
    assert days[-1] == date(2018, 12, 31)
    assert len(days) == len(spx) == len(vix) == 5
    assert vix[-2] == pytest.approx(28.34)
    assert spx[-1] == hist.bar(date(2018, 12, 31)).close
    # end on a non-trading day uses the days before it
    days2, _, _ = hist.closes(date(2018, 12, 30), 3)
    assert days2 == [date(2018, 12, 26), date(2018, 12, 27), date(2018, 12, 28)]
    # fewer days available than asked
    days3, spx3, _ = hist.closes(date(2014, 1, 6), 10)
    assert days3 == [date(2014, 1, 3), date(2014, 1, 6)]
    assert len(spx3) == 2
    days4, spx4, _ = hist.closes(date(2013, 1, 1), 10)
    assert days4 == [] and len(spx4) == 0
    with pytest.raises(ValueError):
        spx[0] = 1.0  # read-only
    with pytest.raises(ValueError):
        hist.closes(date(2018, 12, 31), 0)


def test_repairs_and_cleaning_on_synthetic_frames() -> None:
    idx = pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"])
    spx = pd.DataFrame(
        {
            "Open": [100.0, 101.0, 99.0, 100.0],
            "High": [102.0, 100.5, 101.0, 101.0],  # day 2: high below open -> repaired
            "Low": [99.0, 99.5, 99.5, 100.2],  # day 4: low above open -> repaired
            "Close": [101.0, 100.0, 100.0, 100.5],
        },
        index=idx,
    )
    vix = pd.Series(["15.0", "16.0", ".", "14.0"], index=idx)
    h = DailyHistory.from_frames(spx, vix)
    assert h.repairs == 2
    assert h.days() == [date(2020, 1, 2), date(2020, 1, 3), date(2020, 1, 7)]
    b2 = h.bar(date(2020, 1, 3))
    assert b2.high == 101.0 and b2.low == 99.5
    b4 = h.bar(date(2020, 1, 7))
    assert b4.low == 100.0 and b4.high == 101.0
    assert b4.prev_close == 100.0  # SPX 2020-01-06 close, a day VIX lacks
    assert b4.prev_vix_close == 16.0
    first = h.bar(date(2020, 1, 2))
    assert first.prev_close == first.open
    assert first.prev_vix_close == first.vix_close
