import itertools
from datetime import date

import numpy as np
import pandas as pd
import pytest

from broker.errors import MarketDataEnded
from broker.sim.history import DailyBar, DailyHistory


@pytest.fixture(scope="module")
def hist() -> DailyHistory:
    return DailyHistory.from_arch()


def test_range_and_counts(hist: DailyHistory) -> None:
    assert hist.first_day == date(1999, 1, 4)
    assert hist.last_day == date(2018, 12, 31)
    assert len(hist.days()) == 5031
    days_2018 = [d for d in hist.days() if d.year == 2018]
    assert len(days_2018) == 251
    assert hist.days() == sorted(set(hist.days()))
    assert hist.repairs == 0
    real = [d for d in hist.days() if hist.vix_source(d) == "real"]
    assert len(real) == 1257 and real[0] == date(2014, 1, 3) == hist.first_real_vix_day


def test_proxy_only_before_the_first_real_vix_day(hist: DailyHistory) -> None:
    flags = [hist.bar(d).vix_is_proxy for d in hist.days()]
    seam = flags.index(False)
    assert hist.days()[seam] == hist.first_real_vix_day == date(2014, 1, 3)
    assert all(flags[:seam]) and not any(flags[seam:])
    assert hist.vix_source(date(2014, 1, 2)) == "proxy"
    assert hist.vix_source(date(2014, 1, 3)) == "real"
    assert hist.vix_proxy_fit is not None and hist.vix_proxy_fit.model == "gjr"
    # the proxy never jumps absurdly at the seam: 2014-01-02 proxy vs 2014-01-03 real (13.76)
    assert abs(hist.bar(date(2014, 1, 2)).vix_close - 13.76) < 3.0
    with pytest.raises(MarketDataEnded):
        hist.vix_source(date(2019, 1, 2))


def test_restricted_history_keeps_the_first_real_vix_day() -> None:
    early = DailyHistory.from_arch(date(2008, 1, 1), date(2008, 12, 31))
    assert early.first_day == date(2008, 1, 2) and early.last_day == date(2008, 12, 31)
    assert all(early.vix_source(d) == "proxy" for d in early.days())
    assert early.first_real_vix_day == date(2014, 1, 3)
    # the 2008 crisis shows in the proxy: autumn far above spring
    _, _, vix = early.closes(date(2008, 12, 31), 300)
    assert vix.max() > 40.0 and vix[:60].mean() < 30.0


def test_synthetic_breadth_on_every_bar(hist: DailyHistory) -> None:
    assert hist.breadth_source == "synthetic"
    days, adv, dec = hist.breadth(date(2018, 12, 31), 5031)
    assert days == hist.days()
    assert np.all(adv + dec == 2910)  # 3000 issues, 90 unchanged
    assert np.all(adv == np.rint(adv)) and adv.min() >= 0 and dec.min() >= 0
    bar = hist.bar(date(2018, 12, 31))
    assert (adv[-1], dec[-1]) == (bar.advances, bar.declines)
    days2, adv2, _ = hist.breadth(date(2018, 12, 30), 3)
    assert days2 == [date(2018, 12, 26), date(2018, 12, 27), date(2018, 12, 28)]
    assert len(adv2) == 3
    with pytest.raises(ValueError):
        adv[0] = 1.0  # read-only
    with pytest.raises(ValueError):
        hist.breadth(date(2018, 12, 31), 0)
    assert hist.breadth(date(1998, 1, 1), 5)[0] == []
    assert hist.futures_settles(date(2018, 12, 31)) is None


def test_restriction_slices_the_same_bars(hist: DailyHistory) -> None:
    sub = DailyHistory.from_arch(date(2013, 12, 1), date(2014, 1, 31))
    assert sub.days()[0] == date(2013, 12, 2)
    assert all(sub.bar(d) == hist.bar(d) for d in sub.days())
    assert sub.breadth_source == "synthetic" and sub.repairs == 0


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
    # Neither SPX nor the proxy has an earlier row than 1999-01-04.
    assert first.prev_close == first.open
    assert first.prev_vix_close == first.vix_close
    # The first real VIX day sees the last proxy as its previous close.
    seam = full.bar(date(2014, 1, 3))
    assert seam.prev_close == full.bar(date(2014, 1, 2)).close != seam.open
    assert seam.prev_vix_close == full.bar(date(2014, 1, 2)).vix_close
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
    assert "1999-01-04..2018-12-31" in msg
    assert hist.has(date(2010, 1, 4))
    with pytest.raises(MarketDataEnded):
        hist.bar(date(1998, 12, 31))
    with pytest.raises(MarketDataEnded):
        hist.bar(date(2018, 1, 15))


def test_empty_restriction_raises() -> None:
    with pytest.raises(MarketDataEnded, match=r"1999-01-04\.\.2018-12-31"):
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
    days3, spx3, _ = hist.closes(date(1999, 1, 5), 10)
    assert days3 == [date(1999, 1, 4), date(1999, 1, 5)]
    assert len(spx3) == 2
    days4, spx4, _ = hist.closes(date(1998, 1, 1), 10)
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
    # VIX starts with SPX: no proxy; breadth is synthesized even for a tiny frame
    assert h.first_real_vix_day == date(2020, 1, 2) and h.vix_proxy_fit is None
    assert not any(h.bar(d).vix_is_proxy for d in h.days())
    assert h.breadth_source == "synthetic"
    assert all(h.bar(d).advances + h.bar(d).declines == 2910 for d in h.days())


def test_from_frames_fills_a_late_vix_with_the_proxy(hist: DailyHistory) -> None:
    spx = pd.DataFrame(
        {
            c.capitalize(): [getattr(hist.bar(d), c) for d in hist.days()]
            for c in ("open", "high", "low", "close")
        },
        index=pd.to_datetime(hist.days()),
    )
    real_days = [d for d in hist.days() if d >= date(2016, 1, 4)]
    vix = pd.Series([hist.bar(d).vix_close for d in real_days], index=pd.to_datetime(real_days))
    h = DailyHistory.from_frames(spx, vix)
    assert h.first_day == date(1999, 1, 4) and h.first_real_vix_day == date(2016, 1, 4)
    assert h.vix_source(date(2015, 12, 31)) == "proxy" and h.vix_source(date(2016, 1, 4)) == "real"
    assert h.vix_proxy_fit is not None
    assert h.vix_proxy_fit.overlap == (date(2016, 1, 4), date(2018, 12, 31))
    assert h.bar(date(2018, 12, 31)) == hist.bar(date(2018, 12, 31))
    # a different calibration window gives a different (but close) proxy
    assert h.bar(date(2008, 10, 10)).vix_close != hist.bar(date(2008, 10, 10)).vix_close
    assert h.bar(date(2008, 10, 10)).vix_close == pytest.approx(
        hist.bar(date(2008, 10, 10)).vix_close, rel=0.25
    )


def test_hand_built_bars_keep_the_old_constructor() -> None:
    bars = [
        DailyBar(date(2020, 1, 2), 100.0, 101.0, 99.0, 100.5, 15.0, 100.0, 15.0),
        DailyBar(date(2020, 1, 3), 100.5, 102.0, 100.0, 101.0, 14.0, 100.5, 15.0),
    ]
    h = DailyHistory(bars)
    assert h.bar(date(2020, 1, 3)).vix_is_proxy is False
    assert h.first_real_vix_day == date(2020, 1, 2)
    assert h.breadth_source == "none"
    _, adv, dec = h.breadth(date(2020, 1, 3), 2)
    assert np.isnan(adv).all() and np.isnan(dec).all()


def test_empty_frames_mean_no_history() -> None:
    spx = pd.DataFrame({c: [] for c in ("Open", "High", "Low", "Close")}, dtype="float64")
    spx.index = pd.DatetimeIndex([])
    with pytest.raises(MarketDataEnded, match="nothing"):
        DailyHistory.from_frames(spx, pd.Series([], index=pd.DatetimeIndex([]), dtype="float64"))
