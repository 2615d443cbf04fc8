"""Orders through the fake gateway: combos, fills, partial fills, cancels, rejects, what-if."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import pytest
from fake_gateway import FakeGateway, OrderDisconnect

from bot.clock import VirtualClock
from broker.calendar import NY
from broker.contracts import OptionContract, Right
from broker.ib.ib_api import IB, ComboLeg, Contract, ExecutionFilter, Future, LimitOrder
from broker.orders import Leg, Order, OrderStatus, Side
from broker.sim.exchange import SimExchange
from broker.sim.fees import FeeSchedule
from broker.sim.listings import Product

from .conftest import CONDOR, ask_of, condor_bag, connect, eventually, spxw

LEG_FEE = FeeSchedule().per_contract(Product.SPXW)


def venue_condor() -> tuple[Leg, ...]:
    return tuple(
        Leg(
            OptionContract("SPX", "SPXW", date(2018, 4, 20), strike, Right(right)),
            Side(action),
        )
        for strike, right, action in CONDOR
    )


async def bid_of(ib: IB, contract: Contract) -> float:
    (ticker,) = await ib.reqTickersAsync(contract)
    return float(ticker.bid)


@pytest.mark.parametrize("gateway", [176, 178], indirect=True)
async def test_condor_bag_fills_with_a_bag_execution_and_leg_commissions(
    gateway: FakeGateway, ib: IB, exchange: SimExchange
) -> None:
    bag = await condor_bag(ib)
    natural = await ask_of(ib, bag)
    trade = ib.placeOrder(bag, LimitOrder("BUY", 3, natural, orderRef="alvh-1"))
    await eventually(lambda: trade.orderStatus.status == "Filled")
    assert trade.filled() == 3  # counted from the BAG execution only
    assert trade.orderStatus.avgFillPrice == pytest.approx(natural)
    await eventually(lambda: all(f.commissionReport.execId for f in trade.fills[:4]))
    legs = [f for f in trade.fills if f.contract.secType == "OPT"]
    (combo,) = [f for f in trade.fills if f.contract.secType == "BAG"]
    assert [f.execution.side for f in legs] == ["SLD", "BOT", "SLD", "BOT"]
    assert all(f.execution.shares == 3 for f in legs)
    assert all(f.commissionReport.commission == pytest.approx(3 * LEG_FEE) for f in legs)
    assert combo.execution.price == pytest.approx(natural)
    assert {f.execution.orderRef for f in trade.fills} == {"alvh-1"}
    assert combo.execution.time == datetime(2018, 3, 5, 10, 0, tzinfo=NY)  # virtual time
    held = {p.contract.key: p.quantity for p in await exchange.positions()}
    assert held == {leg.contract.key: leg.side.sign * 3 for leg in venue_condor()}
    assert len(gateway.orders_received("alvh-1")) == 1


async def test_single_option_sell_fills_at_the_bid(ib: IB, exchange: SimExchange) -> None:
    option = spxw(2600, "P")
    await ib.qualifyContractsAsync(option)
    bid = await bid_of(ib, option)
    trade = ib.placeOrder(option, LimitOrder("SELL", 2, bid))
    await eventually(trade.isDone)
    assert trade.orderStatus.status == "Filled"
    assert trade.orderStatus.avgFillPrice == pytest.approx(bid)
    assert trade.fills[0].execution.side == "SLD"
    assert [p.quantity for p in await exchange.positions()] == [-2]


async def test_vix_future_buy_fills(ib: IB, exchange: SimExchange) -> None:
    future = Future("VIX", "201805", "CFE")
    await ib.qualifyContractsAsync(future)
    trade = ib.placeOrder(future, LimitOrder("BUY", 1, await ask_of(ib, future)))
    await eventually(trade.isDone)
    assert trade.filled() == 1
    (held,) = await exchange.positions()
    assert (held.contract.trading_class, held.quantity) == ("VX", 1)


async def test_resting_order_fills_after_the_virtual_clock_advances(
    ib: IB, exchange: SimExchange, clock: VirtualClock
) -> None:
    option = spxw(2700, "P")
    await ib.qualifyContractsAsync(option)
    later = datetime(2018, 3, 5, 15, 0, tzinfo=NY)  # SPX rallies: the put cheapens
    venue = OptionContract("SPX", "SPXW", date(2018, 4, 20), 2700, Right.PUT)
    ask_now = await ask_of(ib, option)
    ask_later = exchange.market.option_quotes([venue], later)[0].quote.ask
    limit = round((ask_now + ask_later) / 2, 1)
    trade = ib.placeOrder(option, LimitOrder("BUY", 1, limit))
    await eventually(lambda: trade.orderStatus.status == "Submitted")
    assert not trade.fills
    clock.advance_to(later)
    await eventually(lambda: trade.orderStatus.status == "Filled")
    assert trade.fills[0].execution.price == pytest.approx(ask_later)
    assert trade.fills[0].time is not None


async def test_partial_fill_then_the_rest_at_the_next_instant(ib: IB, clock: VirtualClock) -> None:
    option = spxw(2600, "P")
    await ib.qualifyContractsAsync(option)
    (ticker,) = await ib.reqTickersAsync(option)
    shown = int(ticker.askSize)
    trade = ib.placeOrder(option, LimitOrder("BUY", shown + 5, ticker.ask + 5))
    await eventually(lambda: trade.filled() == shown)
    assert trade.orderStatus.status == "Submitted"
    assert trade.orderStatus.remaining == 5
    clock.advance_to(datetime(2018, 3, 5, 10, 1, tzinfo=NY))
    await eventually(lambda: trade.orderStatus.status == "Filled")
    assert trade.filled() == shown + 5
    assert [f.execution.cumQty for f in trade.fills] == [shown, shown + 5]


async def test_cancel_of_a_resting_order(ib: IB, exchange: SimExchange) -> None:
    errors: list[int] = []
    ib.errorEvent += lambda _req, code, *_: errors.append(code)
    bag = await condor_bag(ib)
    trade = ib.placeOrder(bag, LimitOrder("BUY", 1, await ask_of(ib, bag) - 2.0))
    await eventually(lambda: trade.orderStatus.status == "Submitted")
    ib.cancelOrder(trade.order)
    await eventually(lambda: trade.orderStatus.status == "Cancelled")
    await eventually(lambda: errors == [202])
    assert await exchange.open_orders() == []
    assert not trade.fills


async def test_reject_knob_gives_201_and_the_venue_never_sees_the_order(
    gateway: FakeGateway, ib: IB, exchange: SimExchange
) -> None:
    errors: list[tuple[int, str]] = []
    ib.errorEvent += lambda _req, code, text, *_: errors.append((code, text))
    gateway.reject_next_order("margin")
    bag = await condor_bag(ib)
    trade = ib.placeOrder(bag, LimitOrder("BUY", 1, await ask_of(ib, bag), orderRef="alvh-9"))
    await eventually(trade.isDone)
    assert errors == [(201, "Order rejected - reason:margin")]
    assert trade.orderStatus.status == "Inactive"
    assert exchange.state.orders == {}
    assert len(gateway.orders_received("alvh-9")) == 1


async def test_venue_refusal_is_a_201_too(ib: IB, exchange: SimExchange) -> None:
    errors: list[tuple[int, str]] = []
    ib.errorEvent += lambda _req, code, text, *_: errors.append((code, text))
    option, future = spxw(2600, "P"), Future("VIX", "201805", "CFE")
    await ib.qualifyContractsAsync(option, future)
    mixed = Contract(
        secType="BAG", symbol="SPX", exchange="SMART", currency="USD",
        comboLegs=[ComboLeg(conId=option.conId, ratio=1, action="BUY", exchange="SMART"),
                   ComboLeg(conId=future.conId, ratio=1, action="SELL", exchange="SMART")],
    )  # fmt: skip
    trade = ib.placeOrder(mixed, LimitOrder("BUY", 1, 100.0))
    await eventually(trade.isDone)
    assert [code for code, _ in errors] == [201]
    assert "one underlying" in errors[0][1]
    (venue,) = exchange.state.orders.values()
    assert venue.status is OrderStatus.REJECTED


async def test_unknown_leg_gets_error_200(ib: IB) -> None:
    errors: list[int] = []
    ib.errorEvent += lambda _req, code, *_: errors.append(code)
    bogus = Contract(
        secType="BAG", symbol="SPX", exchange="SMART", currency="USD",
        comboLegs=[ComboLeg(conId=12345, ratio=1, action="BUY", exchange="SMART")],
    )  # fmt: skip
    trade = ib.placeOrder(bogus, LimitOrder("BUY", 1, 1.0))
    await eventually(trade.isDone)
    assert errors == [200]


async def test_what_if_returns_the_venues_margins(ib: IB, exchange: SimExchange) -> None:
    bag = await condor_bag(ib)
    natural = await ask_of(ib, bag)
    state = await ib.whatIfOrderAsync(bag, LimitOrder("BUY", 2, natural))
    impact = await exchange.what_if(Order("probe", venue_condor(), 2, natural))
    account = await exchange.account()
    assert float(state.maintMarginBefore) == pytest.approx(account.maintenance_margin, abs=0.01)
    assert float(state.initMarginAfter) == pytest.approx(impact.maintenance_margin_after, abs=0.01)
    assert float(state.maintMarginAfter) == pytest.approx(impact.maintenance_margin_after, abs=0.01)
    assert float(state.equityWithLoanAfter) == pytest.approx(impact.net_liquidation, abs=0.01)
    assert state.commission == pytest.approx(8 * LEG_FEE)
    assert exchange.state.orders == {}  # nothing reached the venue


async def test_modified_limit_through_the_natural_fills(ib: IB) -> None:
    bag = await condor_bag(ib)
    natural = await ask_of(ib, bag)
    order = LimitOrder("BUY", 1, natural - 1.0)
    trade = ib.placeOrder(bag, order)
    await eventually(lambda: trade.orderStatus.status == "Submitted")
    order.lmtPrice = natural
    ib.placeOrder(bag, order)
    await eventually(lambda: trade.orderStatus.status == "Filled")
    assert trade.filled() == 1


async def test_disconnect_after_the_ack_loses_only_the_news_of_the_fill(
    gateway: FakeGateway, ib: IB, exchange: SimExchange
) -> None:
    bag = await condor_bag(ib)
    gateway.disconnect_on_next_order(OrderDisconnect.AFTER_ACK)
    trade = ib.placeOrder(bag, LimitOrder("BUY", 1, await ask_of(ib, bag), orderRef="alvh-3"))
    await eventually(lambda: not ib.isConnected())
    assert trade.orderStatus.status == "Submitted" and not trade.fills
    again = await connect(gateway)
    fills = [f for f in again.fills() if f.execution.orderRef == "alvh-3"]
    assert len(fills) == 5  # four legs and the BAG, from reqExecutions at connect
    assert {p.contract.conId for p in again.positions()} == {leg.conId for leg in bag.comboLegs}
    assert len(gateway.orders_received("alvh-3")) == 1
    assert len(exchange.state.orders) == 1
    again.disconnect()


async def test_disconnect_before_the_venue_leaves_no_order(
    gateway: FakeGateway, ib: IB, exchange: SimExchange
) -> None:
    bag = await condor_bag(ib)
    gateway.disconnect_on_next_order(OrderDisconnect.BEFORE_VENUE)
    ib.placeOrder(bag, LimitOrder("BUY", 1, await ask_of(ib, bag)))
    await eventually(lambda: not ib.isConnected())
    assert exchange.state.orders == {}


async def test_executions_since_a_time(ib: IB, clock: VirtualClock) -> None:
    option = spxw(2600, "P")
    await ib.qualifyContractsAsync(option)
    first = ib.placeOrder(option, LimitOrder("BUY", 1, await ask_of(ib, option)))
    await eventually(first.isDone)
    clock.advance_to(datetime(2018, 3, 5, 11, 0, tzinfo=NY))
    second = ib.placeOrder(option, LimitOrder("BUY", 1, await ask_of(ib, option)))
    await eventually(second.isDone)
    since = ExecutionFilter(time="20180305 15:30:00 UTC")  # 10:30 New York
    fills = await ib.reqExecutionsAsync(since)
    assert [f.execution.orderId for f in fills] == [second.order.orderId]
    everything = await ib.reqExecutionsAsync(ExecutionFilter(time="20180305-14:00:00"))
    assert len(everything) == 2


async def test_open_order_survives_a_reconnect_with_its_perm_id(
    gateway: FakeGateway, ib: IB
) -> None:
    bag = await condor_bag(ib)
    trade = ib.placeOrder(bag, LimitOrder("BUY", 2, await ask_of(ib, bag) - 2, orderRef="r-1"))
    await eventually(lambda: trade.orderStatus.status == "Submitted")
    ib.disconnect()
    again = await connect(gateway)
    (open_trade,) = again.openTrades()
    assert open_trade.order.permId == trade.order.permId
    assert open_trade.order.orderRef == "r-1"
    assert open_trade.order.orderId == trade.order.orderId
    assert open_trade.orderStatus.status == "Submitted"
    again.cancelOrder(open_trade.order)
    await eventually(lambda: open_trade.orderStatus.status == "Cancelled")
    again.disconnect()


async def test_completed_orders_list_filled_and_cancelled(gateway: FakeGateway, ib: IB) -> None:
    option = spxw(2600, "P")
    await ib.qualifyContractsAsync(option)
    filled = ib.placeOrder(option, LimitOrder("BUY", 1, await ask_of(ib, option), orderRef="f"))
    resting = ib.placeOrder(option, LimitOrder("BUY", 1, 0.05, orderRef="c"))
    await eventually(lambda: filled.isDone() and resting.orderStatus.status == "Submitted")
    ib.cancelOrder(resting.order)
    await eventually(resting.isDone)
    done = await ib.reqCompletedOrdersAsync(apiOnly=False)
    assert sorted((t.order.orderRef, t.orderStatus.status) for t in done) == [
        ("c", "Cancelled"), ("f", "Filled"),
    ]  # fmt: skip


async def test_the_same_order_ref_twice_is_two_orders_as_with_ib(
    gateway: FakeGateway, ib: IB, exchange: SimExchange
) -> None:
    option = spxw(2600, "P")
    await ib.qualifyContractsAsync(option)
    ask = await ask_of(ib, option)
    trades = [ib.placeOrder(option, LimitOrder("BUY", 1, ask, orderRef="dup")) for _ in range(2)]
    await eventually(lambda: all(t.isDone() for t in trades))
    assert len(gateway.orders_received("dup")) == 2
    assert sorted(exchange.state.orders) == ["dup", "dup~2"]
    assert {f.execution.orderRef for t in trades for f in t.fills} == {"dup"}


async def test_reject_can_end_cancelled(gateway: FakeGateway, ib: IB) -> None:
    gateway.reject_next_order("no", status="Cancelled")
    option = spxw(2600, "P")
    await ib.qualifyContractsAsync(option)
    trade = ib.placeOrder(option, LimitOrder("BUY", 1, 1.0))
    await eventually(trade.isDone)
    await asyncio.sleep(0.05)
    assert trade.orderStatus.status == "Cancelled"
    assert [entry.errorCode for entry in trade.log if entry.errorCode] == [201]
    with pytest.raises(ValueError):
        gateway.reject_next_order("no", status="Filled")


async def test_refused_fields_are_a_201(ib: IB) -> None:
    option = spxw(2600, "P")
    await ib.qualifyContractsAsync(option)
    fractional = ib.placeOrder(option, LimitOrder("BUY", 1.5, 1.0))
    await eventually(fractional.isDone)
    assert fractional.orderStatus.status == "Inactive"
    assert "whole number" in fractional.log[-2].message
