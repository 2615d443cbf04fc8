"""Market data through the fake gateway: snapshots, greeks, streams, delayed data, bars."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest
from fake_gateway import FakeGateway

from bot.clock import VirtualClock
from broker.calendar import NY
from broker.contracts import (
    AD_NYSE,
    SPX,
    VIX,
    FutureContract,
    IndexContract,
    OptionContract,
    Right,
)
from broker.ib.ib_api import IB, Future, Index, Option
from broker.sim.exchange import SimExchange

from .conftest import condor_bag, eventually, spxw


async def test_option_snapshot_carries_the_venues_book_and_model_greeks(
    ib: IB, exchange: SimExchange
) -> None:
    option = spxw(2600, "P")
    await ib.qualifyContractsAsync(option)
    (ticker,) = await ib.reqTickersAsync(option)
    (venue,) = await exchange.option_quotes(
        [OptionContract("SPX", "SPXW", date(2018, 4, 20), 2600, Right.PUT)]
    )
    assert (ticker.bid, ticker.ask) == (venue.quote.bid, venue.quote.ask)
    assert ticker.bidSize == venue.quote.bid_size > 0
    greeks = ticker.modelGreeks
    assert greeks is not None
    assert greeks.delta == pytest.approx(venue.greeks.delta, abs=1e-9)
    assert greeks.impliedVol == pytest.approx(venue.greeks.iv, abs=1e-9)
    assert greeks.vega == pytest.approx(venue.greeks.vega / 100, abs=1e-9)  # per vol point
    assert greeks.theta == pytest.approx(venue.greeks.theta / 365, abs=1e-9)  # per day
    assert greeks.undPrice == pytest.approx(venue.underlying_price, abs=1e-8)
    assert greeks.pvDividend is None  # not computed
    assert ticker.marketDataType == 1


async def test_vix_option_greeks_are_on_the_future_of_its_expiry(
    ib: IB, exchange: SimExchange
) -> None:
    option, future = Option("VIX", "20180516", 22, "C", "SMART"), Future("VIX", "201805", "CFE")
    await ib.qualifyContractsAsync(option, future)
    option_ticker, future_ticker = await ib.reqTickersAsync(option, future)
    (venue_future,) = await exchange.future_quotes([FutureContract("VIX", "VX", date(2018, 5, 16))])
    assert option_ticker.modelGreeks is not None
    assert option_ticker.modelGreeks.undPrice == pytest.approx(venue_future.last, abs=1e-8)
    assert (future_ticker.bid, future_ticker.ask) == (venue_future.bid, venue_future.ask)
    assert future_ticker.last == pytest.approx(venue_future.last, abs=1e-8)


async def test_index_snapshot_has_level_and_previous_close(ib: IB, exchange: SimExchange) -> None:
    spx, breadth = Index("SPX", "CBOE"), Index("AD-NYSE", "NYSE")
    await ib.qualifyContractsAsync(spx, breadth)
    spx_ticker, breadth_ticker = await ib.reqTickersAsync(spx, breadth)
    level = (await exchange.index_quote(SPX)).last
    assert spx_ticker.last == pytest.approx(level, abs=1e-8)
    assert spx_ticker.close == (await exchange.daily_bars(SPX, 1))[-1].close
    assert math.isnan(spx_ticker.bid) and math.isnan(spx_ticker.ask)
    assert breadth_ticker.close == (await exchange.daily_bars(AD_NYSE, 1))[-1].close


async def test_combo_snapshot_quotes_the_venues_combo_natural(ib: IB) -> None:
    bag = await condor_bag(ib)
    (ticker,) = await ib.reqTickersAsync(bag)
    assert ticker.bid < ticker.ask < 0  # a credit on both sides: the condor is sold for cash
    assert round(ticker.ask / 0.05) == pytest.approx(ticker.ask / 0.05, abs=1e-9)


async def test_stream_updates_when_the_virtual_clock_moves(ib: IB, clock: VirtualClock) -> None:
    option = spxw(2700, "P")
    await ib.qualifyContractsAsync(option)
    ticker = ib.reqMktData(option)
    await eventually(lambda: not math.isnan(ticker.bid))
    before = ticker.bid
    clock.advance_to(datetime(2018, 3, 5, 15, 0, tzinfo=clock.now().tzinfo))  # SPX rallies
    await eventually(lambda: ticker.bid != before)
    assert ticker.bid < before
    ib.cancelMktData(option)


async def test_live_request_without_subscription_gets_354_then_delayed_data(
    gateway: FakeGateway, ib: IB, exchange: SimExchange
) -> None:
    gateway.live_data_subscribed = False
    errors: list[int] = []
    ib.errorEvent += lambda _req, code, *_: errors.append(code)
    option = spxw(2600, "P")
    await ib.qualifyContractsAsync(option)
    (live,) = await ib.reqTickersAsync(option)
    assert errors == [354]
    assert math.isnan(live.bid) and live.modelGreeks is None
    ib.reqMarketDataType(3)
    (delayed,) = await ib.reqTickersAsync(option)
    assert errors == [354, 10167]
    assert delayed.marketDataType == 3
    (venue,) = await exchange.option_quotes(
        [OptionContract("SPX", "SPXW", date(2018, 4, 20), 2600, Right.PUT)]
    )
    assert (delayed.bid, delayed.ask) == (venue.quote.bid, venue.quote.ask)  # ticks 66/67
    assert delayed.modelGreeks is not None  # tick 83


async def test_delayed_type_with_a_subscription_still_gets_live_data(ib: IB) -> None:
    ib.reqMarketDataType(3)
    spx = Index("SPX", "CBOE")
    await ib.qualifyContractsAsync(spx)
    (ticker,) = await ib.reqTickersAsync(spx)
    assert ticker.marketDataType == 1
    assert ticker.last > 0


@pytest.mark.parametrize("index", [SPX, VIX, AD_NYSE])
async def test_daily_bars_of_the_indexes_match_the_venue(
    ib: IB, exchange: SimExchange, index: IndexContract
) -> None:
    contract = Index(index.symbol, index.exchange)
    bars = await ib.reqHistoricalDataAsync(contract, "", "30 D", "1 day", "TRADES", True)
    venue = [b for b in await exchange.daily_bars(index, 40) if b.day > date(2018, 2, 3)]
    assert [b.date for b in bars] == [v.day for v in venue]
    assert [b.close for b in bars] == pytest.approx([v.close for v in venue])
    assert 18 <= len(bars) <= 22  # 30 calendar days


async def test_daily_bars_up_to_an_earlier_end(ib: IB) -> None:
    end = datetime(2018, 2, 28, 23, 0, tzinfo=NY)  # sent as "20180301 04:00:00 UTC"
    bars = await ib.reqHistoricalDataAsync(
        Index("SPX", "CBOE"), end, "1 W", "1 day", "TRADES", True
    )
    assert [b.date for b in bars][-1] == date(2018, 2, 28)
    assert all(b.date > date(2018, 2, 28) - timedelta(days=7) for b in bars)


async def test_bars_of_an_option_get_error_162(ib: IB) -> None:
    errors: list[int] = []
    ib.errorEvent += lambda _req, code, *_: errors.append(code)
    option = spxw(2600, "P")
    await ib.qualifyContractsAsync(option)
    assert not await ib.reqHistoricalDataAsync(option, "", "5 D", "1 day", "TRADES", True)
    assert errors == [162]
