"""The venue's daily bars: completed sessions only, SPX OHLC, VIX closes, NYSE net advances."""

from __future__ import annotations

from datetime import date, datetime

from bot.clock import VirtualClock
from broker.calendar import NY
from broker.contracts import AD_NYSE, SPX, VIX
from broker.sim.exchange import SimExchange
from broker.sim.history import DailyHistory


async def test_bars_during_a_session_end_with_the_previous_session(
    exchange: SimExchange, clock: VirtualClock, history: DailyHistory
) -> None:
    clock.advance_to(datetime(2018, 3, 13, 10, 0, tzinfo=NY))
    bars = await exchange.daily_bars(SPX, 5)
    assert [b.day for b in bars][-1] == date(2018, 3, 12)
    assert len(bars) == 5
    last = history.bar(date(2018, 3, 12))
    assert (bars[-1].open, bars[-1].high, bars[-1].low, bars[-1].close) == (
        last.open,
        last.high,
        last.low,
        last.close,
    )
    vix = await exchange.daily_bars(VIX, 5)
    assert [b.close for b in vix] == [history.bar(b.day).vix_close for b in vix]


async def test_after_the_close_today_is_a_completed_bar(
    exchange: SimExchange, clock: VirtualClock, history: DailyHistory
) -> None:
    clock.advance_to(datetime(2018, 3, 13, 16, 20, tzinfo=NY))
    bars = await exchange.daily_bars(AD_NYSE, 3)
    assert bars[-1].day == date(2018, 3, 13)
    today = history.bar(date(2018, 3, 13))
    assert bars[-1].close == today.advances - today.declines
