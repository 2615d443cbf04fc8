"""The sizing scenario: each kind of leg repriced against closed forms written out here."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from snapshots import condor, leg_quotes_for, option, option_quote
from vix_snapshots import (
    CALL_EXPIRY,
    MAY,
    NOW,
    calls,
    future,
    future_quote,
    rung,
    vix_call,
    vix_option_quote,
    vix_snapshot,
)

from broker.calendar import NY
from broker.contracts import Right
from broker.market import Greeks
from broker.orders import Leg, Side
from broker.settlement import settlement_time, years_to_settlement
from broker.structures import Engine
from strategies.params import ScenarioParams, StrategyParams
from strategies.scenario import (
    Shock,
    book_scenario,
    book_scenario_pnl,
    legs_scenario_pnl,
    structure_scenario_pnl,
    unit_scenario_pnl,
)

SHOCK = Shock.from_params(ScenarioParams())
YEAR = 365 * 86400.0


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def black_scholes(s: float, k: float, t: float, r: float, q: float, v: float, call: bool) -> float:
    d1 = (math.log(s / k) + (r - q + v * v / 2) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    if call:
        return s * math.exp(-q * t) * norm_cdf(d1) - k * math.exp(-r * t) * norm_cdf(d2)
    return k * math.exp(-r * t) * norm_cdf(-d2) - s * math.exp(-q * t) * norm_cdf(-d1)


def black76(f: float, k: float, t: float, r: float, v: float) -> float:
    d1 = (math.log(f / k) + v * v * t / 2) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    return math.exp(-r * t) * (f * norm_cdf(d1) - k * norm_cdf(d2))


def test_default_shock_is_spx_down_4_pct_and_vix_up_6_points() -> None:
    assert SHOCK.spx_move == -0.04
    assert SHOCK.vix_rise == pytest.approx(6.0)
    assert str(SHOCK) == "SPX -4.0%, VIX +6.0 pts"


def test_settlement_is_the_close_for_spxw_and_the_morning_for_spx_and_vix() -> None:
    expiry = date(2024, 4, 19)
    assert settlement_time(option(5000.0, Right.PUT, expiry)) == datetime(
        2024, 4, 19, 16, 0, tzinfo=NY
    )
    am = option(5000.0, Right.PUT, expiry, trading_class="SPX")
    assert settlement_time(am).time() == time(9, 30)
    assert settlement_time(vix_call(20.0)).time() == time(9, 30)
    assert settlement_time(future(MAY)).time() == time(9, 30)


def test_time_to_settlement_counts_seconds_and_stops_at_zero() -> None:
    contract = option(5000.0, Right.PUT, date(2024, 3, 5))
    assert years_to_settlement(contract, NOW) == pytest.approx((86400 + 5.5 * 3600) / YEAR)
    assert years_to_settlement(contract, datetime(2024, 3, 6, tzinfo=NY)) == 0.0


def test_a_future_rises_by_the_vix_move_damped_by_its_time_to_expiry() -> None:
    held = rung(1, MAY, quantity=3)
    quotes = {future(MAY).key: future_quote(MAY)}
    t = (78 * 86400 + 23 * 3600) / YEAR  # 10:30 on 03-04 to 09:30 on 05-22
    expected = 6.0 * math.exp(-2.5 * t) * 1000 * 3
    assert structure_scenario_pnl(held, quotes, SHOCK).usd == pytest.approx(expected, rel=1e-12)


def test_an_spx_put_is_repriced_at_the_lower_spot_and_higher_vol() -> None:
    put = option(4800.0, Right.PUT)  # 2024-04-18, quote at 10:00 ET on 03-04
    quote = option_quote(put, 11.5, 12.5, -0.16)  # iv 0.15, spot 5000
    t = (45 * 86400 + 6 * 3600) / YEAR
    before = black_scholes(5000.0, 4800.0, t, 0.02, 0.018, 0.15, call=False)
    after = black_scholes(4800.0, 4800.0, t, 0.02, 0.018, 0.21, call=False)
    pnl = legs_scenario_pnl((Leg(put, Side.BUY),), 2, {put.key: quote}, SHOCK)
    assert pnl.usd == pytest.approx((after - before) * 100 * 2, rel=1e-9)


def test_a_vix_call_is_repriced_on_its_shocked_future_at_the_same_vol() -> None:
    call = vix_call(22.0)
    quote = vix_option_quote(call, 17.0, 0.9)
    t = (78 * 86400 + 23 * 3600) / YEAR
    shifted = 17.0 + 6.0 * math.exp(-2.5 * t)
    expected = (black76(shifted, 22.0, t, 0.02, 0.9) - black76(17.0, 22.0, t, 0.02, 0.9)) * 100
    assert unit_scenario_pnl((Leg(call, Side.BUY),), {call.key: quote}, SHOCK).usd == (
        pytest.approx(expected, rel=1e-9)
    )


def test_a_sold_leg_counts_against_and_ratios_multiply() -> None:
    short, long = vix_call(17.0), vix_call(25.0)
    quotes = {c.key: vix_option_quote(c, 17.0) for c in (short, long)}
    one = {c.key: unit_scenario_pnl((Leg(c, Side.BUY),), quotes, SHOCK).usd for c in (short, long)}
    spread = unit_scenario_pnl((Leg(short, Side.SELL), Leg(long, Side.BUY, 3)), quotes, SHOCK)
    assert spread.usd == pytest.approx(3 * one[long.key] - one[short.key], rel=1e-12)


def test_the_condor_book_loses_what_its_four_legs_lose_by_hand() -> None:
    held = condor(7, quantity=2)
    quotes = {q.contract.key: q for q in leg_quotes_for(held, (12.0, 4.0, 10.0, 3.0))}
    t = (45 * 86400 + 6 * 3600) / YEAR
    total = 0.0
    for leg in held.legs:
        strike, is_call = leg.contract.strike, leg.contract.right is Right.CALL  # type: ignore[union-attr]
        move = black_scholes(4800.0, strike, t, 0.02, 0.018, 0.21, is_call) - black_scholes(
            5000.0, strike, t, 0.02, 0.018, 0.15, is_call
        )
        total += leg.signed_ratio * move * 100 * 2
    result = book_scenario((held,), quotes, SHOCK)
    assert total < 0
    assert result.by_structure[7].usd == pytest.approx(total, rel=1e-9)
    assert result.engine_pnl(Engine.CONDOR) == pytest.approx(total, rel=1e-9)
    assert result.engine_pnl(Engine.VIX) == 0.0


def test_the_book_in_one_pass_equals_structure_by_structure() -> None:
    held = (condor(1), rung(2, MAY, 2), calls(3, 22.0, 4), calls(4, 26.0, 1))
    quotes = {q.contract.key: q for q in leg_quotes_for(held[0], (12.0, 4.0, 10.0, 3.0))}
    quotes[future(MAY).key] = future_quote(MAY)
    for c in (vix_call(22.0), vix_call(26.0)):
        quotes[c.key] = vix_option_quote(c, 17.0)
    result = book_scenario(held, quotes, SHOCK)
    for s in held:
        assert result.by_structure[s.id].usd == pytest.approx(
            structure_scenario_pnl(s, quotes, SHOCK).usd, rel=1e-12
        )
    vix_total = sum(structure_scenario_pnl(s, quotes, SHOCK).usd or 0.0 for s in held[1:])
    assert result.engine_pnl(Engine.VIX) == pytest.approx(vix_total, rel=1e-12)
    assert result.problems == {}


def test_a_missing_quote_makes_the_structure_and_its_engine_unknown() -> None:
    held = (condor(1), calls(2, 22.0, 4))
    quotes = {q.contract.key: q for q in leg_quotes_for(held[0], (12.0, 4.0, 10.0, 3.0))}
    result = book_scenario(held, quotes, SHOCK)
    assert result.by_structure[2].usd is None
    assert "no quote for VIX 2024-05-22 C 22" in (result.by_structure[2].problem or "")
    assert result.engine_pnl(Engine.VIX) is None
    assert result.engine_pnl(Engine.CONDOR) is not None
    assert "call_block #2" in result.problems[Engine.VIX][0]


def test_a_nan_implied_vol_is_never_priced() -> None:
    call = vix_call(22.0)
    quote = vix_option_quote(call, 17.0)
    broken = replace(quote, greeks=Greeks(math.nan, 0.3, 0.1, 1.0, -1.0))
    pnl = unit_scenario_pnl((Leg(call, Side.BUY),), {call.key: broken}, SHOCK)
    assert pnl.usd is None and not pnl.known
    assert pnl.problem == "no implied vol for VIX 2024-05-22 C 22 (iv nan)"


def test_a_missing_underlying_price_is_never_priced() -> None:
    call = vix_call(22.0)
    quote = vix_option_quote(call, 17.0)
    broken = replace(quote, underlying_price=math.nan)
    pnl = unit_scenario_pnl((Leg(call, Side.BUY),), {call.key: broken}, SHOCK)
    assert pnl.usd is None and "no underlying price" in (pnl.problem or "")


def test_book_pnl_by_engine_reprices_at_the_given_instant() -> None:
    held = (rung(1, MAY),)
    later = datetime(2024, 5, 21, 9, 30, tzinfo=NY)  # one day before expiry
    pnl = book_scenario_pnl(held, vix_snapshot(held), StrategyParams(), later)
    assert pnl[Engine.VIX] == pytest.approx(6.0 * math.exp(-2.5 / 365) * 1000, rel=1e-12)
    assert pnl[Engine.CONDOR] == 0.0


@settings(deadline=None, max_examples=60)
@given(
    strike=st.floats(12.0, 60.0),
    forward=st.floats(12.0, 40.0),
    vol=st.floats(0.3, 1.5),
    spx_strike=st.floats(4000.0, 5000.0),
    iv=st.floats(0.08, 0.6),
)
def test_long_vix_calls_futures_and_spx_puts_gain_in_the_scenario(
    strike: float, forward: float, vol: float, spx_strike: float, iv: float
) -> None:
    call = vix_call(float(round(strike)), CALL_EXPIRY)
    put = option(float(round(spx_strike)), Right.PUT)
    quotes = {
        call.key: vix_option_quote(call, forward, vol),
        put.key: replace(option_quote(put, 1.0, 2.0, -0.1), greeks=Greeks(iv, -0.1, 0, 1, -1)),
        future(MAY).key: future_quote(MAY, forward),
    }
    for contract in (call, put, future(MAY)):
        pnl = unit_scenario_pnl((Leg(contract, Side.BUY),), quotes, SHOCK)
        assert pnl.usd is not None and pnl.usd >= 0.0


def test_the_shock_is_configurable_and_the_repricing_follows_it() -> None:
    params = ScenarioParams(spx_move_pct=-0.05, vix_points_per_pct=2.0)
    shock = Shock.from_params(params)
    assert (shock.spx_move, shock.vix_rise) == (-0.05, pytest.approx(10.0))
    assert str(shock) == "SPX -5.0%, VIX +10.0 pts"
    put = option(4800.0, Right.PUT)
    quote = option_quote(put, 11.5, 12.5, -0.16)  # iv 0.15, spot 5000
    t = (45 * 86400 + 6 * 3600) / YEAR
    before = black_scholes(5000.0, 4800.0, t, 0.02, 0.018, 0.15, call=False)
    after = black_scholes(4750.0, 4800.0, t, 0.02, 0.018, 0.25, call=False)
    pnl = legs_scenario_pnl((Leg(put, Side.BUY),), 1, {put.key: quote}, shock)
    assert pnl.usd == pytest.approx((after - before) * 100, rel=1e-9)
    flat = Shock.from_params(ScenarioParams(vix_points_per_pct=0.0))  # SPX alone moves
    assert flat.vix_rise == 0.0
