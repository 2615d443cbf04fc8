"""The simulated paper exchange: natural-price fills, resting orders, partial fills, fees,
margin, settlement by product."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.clock import VirtualClock
from broker.calendar import NY
from broker.contracts import FutureContract, OptionContract, Right
from broker.market import Quote
from broker.orders import Leg, Order, OrderStatus, Side
from broker.sim.exchange import SimExchange, combo_natural
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


async def leg_quotes(exchange: SimExchange, legs: tuple[Leg, ...]) -> list[Quote]:
    options = [leg.contract for leg in legs if isinstance(leg.contract, OptionContract)]
    futures = [leg.contract for leg in legs if isinstance(leg.contract, FutureContract)]
    by_key = {q.contract.key: q.quote for q in await exchange.option_quotes(options)}
    by_key.update({q.contract.key: q for q in await exchange.future_quotes(futures)})
    return [by_key[leg.contract.key] for leg in legs]


async def net_mid(exchange: SimExchange, legs: tuple[Leg, ...]) -> float:
    quotes = await leg_quotes(exchange, legs)
    return sum(leg.signed_ratio * q.mid for leg, q in zip(legs, quotes, strict=True))


async def natural(exchange: SimExchange, legs: tuple[Leg, ...]) -> float:
    return combo_natural(legs, await leg_quotes(exchange, legs))[0]


async def test_a_condor_at_mid_rests_and_at_the_combo_natural_fills_there(
    exchange: SimExchange,
) -> None:
    legs = condor_legs()
    quotes = await leg_quotes(exchange, legs)
    mid = await net_mid(exchange, legs)
    nat = await natural(exchange, legs)
    legged = sum(
        leg.signed_ratio * (q.ask if leg.side is Side.BUY else q.bid)
        for leg, q in zip(legs, quotes, strict=True)
    )
    assert mid < 0  # a condor is sold for a credit
    assert mid < nat <= legged  # the complex book quotes inside the legged market
    assert round(nat / 0.05) * 0.05 == pytest.approx(nat)  # on the complex tick
    state = await exchange.place_order(Order("alvh-1", legs, 2, mid))
    assert state.status is OrderStatus.WORKING and await exchange.executions() == []
    state = await exchange.modify_order("alvh-1", nat)
    assert state.status is OrderStatus.FILLED and state.filled == 2
    assert state.avg_fill_price == pytest.approx(nat)
    fills = await exchange.executions()
    assert [f.side for f in fills] == [Side.SELL, Side.BUY, Side.SELL, Side.BUY]
    for fill, quote in zip(fills, quotes, strict=True):
        assert quote.bid - 1e-9 <= fill.price <= quote.ask + 1e-9  # inside each leg's book
        assert fill.quantity == 2 and fill.commission == pytest.approx(2 * 1.25)
    assert sum(f.side.sign * f.price for f in fills) == pytest.approx(nat)
    account = await exchange.account()
    assert account.cash == pytest.approx(1_000_000 - nat * 100 * 2 - 4 * 2.50)


async def test_a_limit_through_the_natural_fills_at_the_natural(exchange: SimExchange) -> None:
    legs = condor_legs()
    nat = await natural(exchange, legs)
    state = await exchange.place_order(Order("alvh-2", legs, 1, nat + 1.0))
    assert state.status is OrderStatus.FILLED
    assert state.avg_fill_price == pytest.approx(nat)


async def test_a_resting_order_fills_when_the_market_comes_to_it(
    exchange: SimExchange, clock: VirtualClock
) -> None:
    future = FutureContract("VIX", "VX", date(2018, 4, 18))
    [quote] = await exchange.future_quotes([future])
    limit = quote.bid  # a buyer bidding the bid: not marketable now
    state = await exchange.place_order(Order("alvh-3", (Leg(future, Side.BUY),), 1, limit))
    assert state.status is OrderStatus.WORKING
    probe = clock.now()
    for _ in range(400):  # find, on the market itself, the first instant the ask reaches it
        probe += timedelta(minutes=15)
        [later] = exchange.market.future_quotes([future], probe)
        if later.ask <= limit:
            break
    else:
        pytest.fail("the VIX future never came down to the bid within the search window")
    clock.advance_to(probe - timedelta(minutes=15))
    assert (await exchange.order_state("alvh-3")).status is OrderStatus.WORKING  # type: ignore[union-attr]
    clock.advance_to(probe)
    state = await exchange.order_state("alvh-3")  # type: ignore[assignment]
    assert state is not None and state.status is OrderStatus.FILLED
    assert state.avg_fill_price == pytest.approx(later.ask)
    assert state.avg_fill_price <= limit


async def test_cancelled_order_never_fills(exchange: SimExchange) -> None:
    legs = condor_legs()
    mid = await net_mid(exchange, legs)
    await exchange.place_order(Order("alvh-4", legs, 1, mid - 1.0))
    state = await exchange.cancel_order("alvh-4")
    assert state.status is OrderStatus.CANCELLED
    await exchange.modify_order("alvh-4", mid + 5)
    assert await exchange.executions() == []


async def test_the_same_reference_is_never_executed_twice(exchange: SimExchange) -> None:
    legs = condor_legs()
    nat = await natural(exchange, legs)
    await exchange.place_order(Order("alvh-5", legs, 1, nat))
    again = await exchange.place_order(Order("alvh-5", legs, 1, nat))
    assert again.status is OrderStatus.FILLED
    assert len(await exchange.executions()) == 4


async def test_a_large_order_fills_the_displayed_size_per_instant(
    exchange: SimExchange, clock: VirtualClock
) -> None:
    legs = condor_legs()
    quotes = await leg_quotes(exchange, legs)
    shown = int(min(min(q.bid_size, q.ask_size) for q in quotes))
    assert shown >= 1
    quantity = 2 * shown + 3
    state = await exchange.place_order(
        Order("alvh-6", legs, quantity, await natural(exchange, legs) + 5)
    )
    assert state.status is OrderStatus.PARTIAL and state.filled == shown
    assert state.remaining == quantity - shown
    assert (await exchange.order_state("alvh-6")).filled == shown  # type: ignore[union-attr]
    for _ in range(3):
        clock.advance_to(clock.now() + timedelta(minutes=1))
        state = await exchange.order_state("alvh-6")  # type: ignore[assignment]
    assert state.status is OrderStatus.FILLED and state.filled == quantity
    fills = await exchange.executions()
    assert sum(f.quantity for f in fills if f.contract == legs[0].contract) == quantity
    assert len({f.time for f in fills}) == 3  # three instants: shown, shown, 3


async def test_a_partial_order_cancelled_keeps_what_filled(exchange: SimExchange) -> None:
    legs = condor_legs()
    shown = int(min(q.ask_size for q in await leg_quotes(exchange, legs)))
    await exchange.place_order(Order("alvh-7", legs, shown + 1, await natural(exchange, legs)))
    state = await exchange.cancel_order("alvh-7")
    assert state.status is OrderStatus.CANCELLED and state.filled == shown
    positions = {p.contract.key: p.quantity for p in await exchange.positions()}
    assert positions[legs[0].contract.key] == -shown


async def test_margin_of_a_condor_is_its_widest_side_times_100_per_unit(
    exchange: SimExchange,
) -> None:
    legs = condor_legs()
    await exchange.place_order(Order("alvh-8", legs, 3, await natural(exchange, legs)))
    account = await exchange.account()
    assert account.maintenance_margin == pytest.approx(50 * 100 * 3)
    impact = await exchange.what_if(Order("x", legs, 1, 0.0))
    assert impact.maintenance_margin_after == pytest.approx(50 * 100 * 4)


async def test_margin_follows_the_holdings_and_a_naked_calls_underlying(
    exchange: SimExchange, clock: VirtualClock
) -> None:
    legs = condor_legs()
    await exchange.place_order(Order("alvh-30", legs, 1, await natural(exchange, legs)))
    assert (await exchange.account()).maintenance_margin == pytest.approx(50 * 100)
    impact = await exchange.what_if(Order("x", legs, 2, 0.0))
    assert impact.maintenance_margin_after == pytest.approx(50 * 100 * 3)
    assert (await exchange.account()).maintenance_margin == pytest.approx(50 * 100)
    await exchange.place_order(Order("alvh-31", legs, 1, await natural(exchange, legs)))
    assert (await exchange.account()).maintenance_margin == pytest.approx(50 * 100 * 2)

    naked = (Leg(spxw(2900, Right.CALL), Side.SELL),)  # a net short call: priced margin
    await exchange.place_order(Order("alvh-32", naked, 1, 0.0))
    charges = []
    for hour in (10, 15):
        clock.advance_to(datetime(2018, 3, 5, hour, 0, tzinfo=NY))
        spx, _ = exchange.market.levels(clock.now())
        margin = (await exchange.account()).maintenance_margin
        charges.append(margin)
        assert margin == pytest.approx(50 * 100 * 2 + 0.20 * spx * 100)
    assert charges[0] != charges[1]


async def test_unlisted_strike_expiry_product_and_mixed_combo_are_rejected(
    exchange: SimExchange,
) -> None:
    cases = {
        "alvh-9": (Leg(spxw(2702.5, Right.PUT), Side.BUY),),
        "alvh-10": (Leg(spxw(2700, Right.PUT, date(2018, 4, 19)), Side.BUY),),
        "alvh-11": (Leg(OptionContract("NDX", "NDX", EXPIRY, 6000, Right.PUT), Side.BUY),),
        "alvh-12": (
            Leg(spxw(2700, Right.PUT), Side.BUY),
            Leg(FutureContract("VIX", "VX", date(2018, 4, 18)), Side.BUY),
        ),
        "alvh-13": (
            Leg(OptionContract("VIX", "VIX", date(2018, 4, 18), 22.5, Right.CALL), Side.BUY),
        ),
    }
    for ref, legs in cases.items():
        state = await exchange.place_order(Order(ref, legs, 1, 50.0))
        assert state.status is OrderStatus.REJECTED, ref
    messages = {ref: (await exchange.order_state(ref)).message for ref in cases}  # type: ignore[union-attr]
    assert "not listed" in messages["alvh-9"]
    assert "not listed" in messages["alvh-10"]
    assert "not traded on this venue" in messages["alvh-11"]
    assert "one underlying" in messages["alvh-12"]
    assert "not listed" in messages["alvh-13"]


async def test_charges_per_contract_by_product(exchange: SimExchange) -> None:
    vix_call = OptionContract("VIX", "VIX", date(2018, 4, 18), 20, Right.CALL)
    future = FutureContract("VIX", "VX", date(2018, 5, 16))
    for ref, leg, qty in (
        ("alvh-14", Leg(spxw(2700, Right.PUT), Side.BUY), 3),
        ("alvh-15", Leg(vix_call, Side.BUY), 4),
        ("alvh-16", Leg(future, Side.BUY), 2),
    ):
        await exchange.place_order(Order(ref, (leg,), qty, 1000.0))
    charges = {f.order_ref: f.commission for f in await exchange.executions()}
    assert charges == {
        "alvh-14": pytest.approx(3 * 1.25),
        "alvh-15": pytest.approx(4 * 1.10),
        "alvh-16": pytest.approx(2 * 2.37),
    }


async def test_a_vix_future_moves_cash_only_when_it_closes(
    exchange: SimExchange, clock: VirtualClock
) -> None:
    future = FutureContract("VIX", "VX", date(2018, 5, 16))
    cash0 = (await exchange.account()).cash
    buy = await exchange.place_order(Order("alvh-17", (Leg(future, Side.BUY),), 2, 1000.0))
    account = await exchange.account()
    assert account.cash == pytest.approx(cash0 - 2 * 2.37)
    assert account.maintenance_margin == pytest.approx(2 * 8000.0)
    [position] = await exchange.positions()
    assert position.quantity == 2 and position.avg_cost == pytest.approx(buy.avg_fill_price * 1000)  # type: ignore[operator]
    clock.advance_to(datetime(2018, 3, 12, 11, 0, tzinfo=NY))
    [mark] = await exchange.future_quotes([future])
    nlv = (await exchange.account()).net_liquidation
    assert nlv == pytest.approx(cash0 - 2 * 2.37 + 2 * 1000 * (mark.mid - buy.avg_fill_price))  # type: ignore[operator]
    sell = await exchange.place_order(
        Order("alvh-18", (Leg(future, Side.SELL),), 2, 0.0)
    )  # receive at least 0
    # net prices are per unit bought: selling at the bid is a net price of minus the bid
    assert sell.avg_fill_price == pytest.approx(-mark.bid)
    pnl = 2 * 1000 * (mark.bid - buy.avg_fill_price)  # type: ignore[operator]
    assert (await exchange.account()).cash == pytest.approx(cash0 - 4 * 2.37 + pnl)
    assert await exchange.positions() == []


async def test_expired_spxw_put_spread_settles_in_cash_at_the_expiry_close(
    exchange: SimExchange, clock: VirtualClock, history: DailyHistory
) -> None:
    expiry = date(2018, 3, 9)
    settle = history.bar(expiry).close
    strike = round(settle / 5) * 5 + 50  # in the money at settlement
    legs = (
        Leg(spxw(strike, Right.PUT, expiry), Side.BUY),
        Leg(spxw(strike - 25, Right.PUT, expiry), Side.SELL),
    )
    await exchange.place_order(Order("alvh-19", legs, 2, await natural(exchange, legs)))
    cash_before = (await exchange.account()).cash
    clock.advance_to(datetime(2018, 3, 9, 15, 59, tzinfo=NY))
    assert len(await exchange.positions()) == 2  # PM-settled: held through the last session
    clock.advance_to(datetime(2018, 3, 9, 16, 30, tzinfo=NY))
    assert await exchange.positions() == []
    value = (max(0.0, strike - settle) - max(0.0, strike - 25 - settle)) * 100 * 2
    assert (await exchange.account()).cash == pytest.approx(cash_before + value)


async def test_an_spx_monthly_settles_at_the_expiry_open_and_stops_trading_the_day_before(
    exchange: SimExchange, clock: VirtualClock, history: DailyHistory
) -> None:
    expiry = date(2018, 3, 16)  # third Friday: AM-settled SPX monthly
    call = OptionContract("SPX", "SPX", expiry, 2700, Right.CALL)
    bought = await exchange.place_order(Order("alvh-20", (Leg(call, Side.BUY),), 1, 1000.0))
    assert bought.status is OrderStatus.FILLED
    clock.advance_to(datetime(2018, 3, 16, 9, 0, tzinfo=NY))
    late = await exchange.place_order(Order("alvh-21", (Leg(call, Side.BUY),), 1, 1000.0))
    assert late.status is OrderStatus.REJECTED  # last trading day was Thursday
    cash_before = (await exchange.account()).cash
    clock.advance_to(datetime(2018, 3, 16, 9, 31, tzinfo=NY))
    assert await exchange.positions() == []
    opening = history.bar(expiry).open
    assert (await exchange.account()).cash == pytest.approx(
        cash_before + max(0.0, opening - 2700) * 100
    )


async def test_vix_options_and_futures_settle_at_the_vix_at_0930_on_expiry_wednesday(
    exchange: SimExchange, clock: VirtualClock
) -> None:
    expiry = date(2018, 3, 21)
    call = OptionContract("VIX", "VIX", expiry, 15, Right.CALL)
    future = FutureContract("VIX", "VX", expiry)
    await exchange.place_order(Order("alvh-22", (Leg(call, Side.BUY),), 1, 1000.0))
    buy = await exchange.place_order(Order("alvh-23", (Leg(future, Side.BUY),), 1, 1000.0))
    cash_before = (await exchange.account()).cash
    clock.advance_to(datetime(2018, 3, 21, 10, 0, tzinfo=NY))
    assert await exchange.positions() == []
    vro = exchange.market.levels(datetime(2018, 3, 21, 9, 30, tzinfo=NY))[1]
    expected = max(0.0, vro - 15) * 100 + (vro - buy.avg_fill_price) * 1000  # type: ignore[operator]
    assert (await exchange.account()).cash == pytest.approx(cash_before + expected)


async def test_a_working_order_is_cancelled_when_a_leg_stops_trading(
    exchange: SimExchange, clock: VirtualClock
) -> None:
    call = OptionContract("VIX", "VIX", date(2018, 3, 21), 30, Right.CALL)
    state = await exchange.place_order(Order("alvh-24", (Leg(call, Side.BUY),), 1, 0.0))
    assert state.status is OrderStatus.WORKING
    clock.advance_to(datetime(2018, 3, 20, 16, 20, tzinfo=NY))  # after the 16:15 close
    state = await exchange.order_state("alvh-24")  # type: ignore[assignment]
    assert state is not None and state.status is OrderStatus.CANCELLED
    assert "stopped trading" in state.message


async def test_execution_ids_differ_between_exchange_sessions(
    exchange: SimExchange, clock: VirtualClock
) -> None:
    other = SimExchange(exchange.market, clock.now, "DUTEST001", 1_000_000.0)
    await other.connect()
    legs = condor_legs()
    nat = await natural(exchange, legs)
    await exchange.place_order(Order("alvh-25", legs, 1, nat))
    await other.place_order(Order("alvh-25", legs, 1, nat))
    ids = {f.exec_id for f in await exchange.executions()}
    assert ids.isdisjoint({f.exec_id for f in await other.executions()})
