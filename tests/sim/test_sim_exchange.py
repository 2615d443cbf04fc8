"""The simulated paper exchange: fills at mid, resting orders, commissions, margin, settlement."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.clock import VirtualClock
from broker.calendar import NY
from broker.contracts import OptionContract, Right
from broker.orders import Leg, Order, OrderStatus, Side
from broker.sim.exchange import SimExchange
from broker.sim.history import DailyHistory

EXPIRY = date(2018, 4, 20)


def spxw(strike: float, right: Right, expiry: date = EXPIRY) -> OptionContract:
    return OptionContract("SPX", "SPXW", expiry, strike, right)


def condor_legs() -> tuple[Leg, ...]:
    return (
        Leg(spxw(2550, Right.PUT), Side.SELL),
        Leg(spxw(2500, Right.PUT), Side.BUY),
        Leg(spxw(2850, Right.CALL), Side.SELL),
        Leg(spxw(2900, Right.CALL), Side.BUY),
    )


async def net_mid(exchange: SimExchange, legs: tuple[Leg, ...]) -> float:
    quotes = await exchange.option_quotes([leg.contract for leg in legs])  # type: ignore[misc]
    return sum(leg.signed_ratio * q.quote.mid for leg, q in zip(legs, quotes, strict=True))


async def test_condor_at_mid_fills_at_mid_with_one_execution_per_leg(exchange: SimExchange) -> None:
    legs = condor_legs()
    mid = await net_mid(exchange, legs)
    assert mid < 0  # a condor is sold for a credit
    state = await exchange.place_order(Order("alvh-1", legs, 2, mid))
    assert state.status is OrderStatus.FILLED and state.filled == 2
    fills = await exchange.executions()
    assert [f.order_ref for f in fills] == ["alvh-1"] * 4
    assert [f.side for f in fills] == [Side.SELL, Side.BUY, Side.SELL, Side.BUY]
    assert all(f.quantity == 2 and f.commission == pytest.approx(2.30) for f in fills)
    assert sum(f.side.sign * f.price for f in fills) == pytest.approx(mid)
    account = await exchange.account()
    assert account.cash == pytest.approx(1_000_000 - mid * 100 * 2 - 4 * 2.30)


async def test_limit_asking_more_than_mid_credit_rests_until_improved(
    exchange: SimExchange,
) -> None:
    legs = condor_legs()
    mid = await net_mid(exchange, legs)
    state = await exchange.place_order(Order("alvh-2", legs, 1, mid - 1.0))
    assert state.status is OrderStatus.WORKING
    assert await exchange.executions() == []
    assert [o.ref for o in await exchange.open_orders()] == ["alvh-2"]
    state = await exchange.modify_order("alvh-2", mid + 0.05)
    assert state.status is OrderStatus.FILLED
    assert len(await exchange.executions()) == 4


async def test_cancelled_order_never_fills(exchange: SimExchange, clock: VirtualClock) -> None:
    legs = condor_legs()
    mid = await net_mid(exchange, legs)
    await exchange.place_order(Order("alvh-3", legs, 1, mid - 1.0))
    state = await exchange.cancel_order("alvh-3")
    assert state.status is OrderStatus.CANCELLED
    await exchange.modify_order("alvh-3", mid + 5)
    assert await exchange.executions() == []


async def test_the_same_reference_is_never_executed_twice(exchange: SimExchange) -> None:
    legs = condor_legs()
    mid = await net_mid(exchange, legs)
    await exchange.place_order(Order("alvh-4", legs, 1, mid))
    again = await exchange.place_order(Order("alvh-4", legs, 1, mid))
    assert again.status is OrderStatus.FILLED
    assert len(await exchange.executions()) == 4


async def test_margin_of_a_condor_is_its_widest_side_times_100_per_unit(
    exchange: SimExchange,
) -> None:
    legs = condor_legs()
    await exchange.place_order(Order("alvh-5", legs, 3, await net_mid(exchange, legs)))
    account = await exchange.account()
    assert account.maintenance_margin == pytest.approx(50 * 100 * 3)
    impact = await exchange.what_if(Order("x", legs, 1, 0.0))
    assert impact.maintenance_margin_after == pytest.approx(50 * 100 * 4)


async def test_unlisted_strike_is_rejected(exchange: SimExchange) -> None:
    state = await exchange.place_order(
        Order("alvh-6", (Leg(spxw(2702.5, Right.PUT), Side.BUY),), 1, 50.0)
    )
    assert state.status is OrderStatus.REJECTED
    assert "not listed" in state.message


async def test_expired_put_spread_settles_in_cash_at_the_expiry_close(
    exchange: SimExchange, clock: VirtualClock, history: DailyHistory
) -> None:
    expiry = date(2018, 3, 9)
    settle = history.bar(expiry).close
    strike = round(settle / 5) * 5 + 50  # in the money at settlement
    legs = (
        Leg(spxw(strike, Right.PUT, expiry), Side.BUY),
        Leg(spxw(strike - 25, Right.PUT, expiry), Side.SELL),
    )
    await exchange.place_order(Order("alvh-7", legs, 2, await net_mid(exchange, legs)))
    cash_before = (await exchange.account()).cash
    clock.advance_to(datetime(2018, 3, 9, 16, 30, tzinfo=NY))
    assert await exchange.positions() == []
    value = (max(0.0, strike - settle) - max(0.0, strike - 25 - settle)) * 100 * 2
    assert (await exchange.account()).cash == pytest.approx(cash_before + value)


async def test_execution_ids_differ_between_exchange_sessions(
    exchange: SimExchange, market: object, clock: VirtualClock
) -> None:
    other = SimExchange(exchange.market, clock.now, "DUTEST001", 1_000_000.0, 1.15)
    await other.connect()
    legs = condor_legs()
    mid = await net_mid(exchange, legs)
    await exchange.place_order(Order("alvh-8", legs, 1, mid))
    await other.place_order(Order("alvh-8", legs, 1, mid))
    ids = {f.exec_id for f in await exchange.executions()}
    assert ids.isdisjoint({f.exec_id for f in await other.executions()})
