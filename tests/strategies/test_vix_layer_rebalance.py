"""The daily hedge rebalance: each part sized on its share of the condor book's scenario loss."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import pytest
from vix_snapshots import (
    APR,
    CALL_EXPIRY,
    JUN,
    MAR,
    MAY,
    NOW,
    PARAMS,
    backspread,
    book,
    calls,
    condors,
    future_quote,
    futures,
    of_kind,
    rung,
    signals,
    strikes_of,
    vix_call,
    vix_chain,
    vix_snapshot,
    with_nan_greeks,
)

from broker.contracts import FutureContract
from broker.orders import Leg, Side
from broker.structures import Engine, Intent, IntentKind, StructureKind
from strategies.decision import Decision
from strategies.params import RiskLimits, StrategyParams, VixLayerParams
from strategies.scenario import Shock, book_scenario, unit_scenario_pnl
from strategies.vix_layer import decide_hedge
from strategies.vix_layer.budget import fit_budget
from strategies.vix_layer.plan import ProposedOpen

SHOCK = Shock.from_params(PARAMS.scenario)
RATIO = 3  # a 1:3 backspread is a hedge on the test chain (a 1:2 is nearly delta-neutral)


def condor_loss(quantity: int = 2) -> float:
    snap = vix_snapshot(condors(quantity))
    pnl = book_scenario(condors(quantity), snap.leg_quotes, SHOCK).engine_pnl(Engine.CONDOR)
    assert pnl is not None and pnl < 0
    return -pnl


def call_gain(strike: float = 23.0) -> float:
    snap = vix_snapshot()
    call = vix_call(strike)
    quotes = {q.contract.key: q for q in snap.vix_chains[CALL_EXPIRY].quotes}
    gain = unit_scenario_pnl((Leg(call, Side.BUY),), quotes, SHOCK).usd
    assert gain is not None
    return gain


def block_target(quantity: int = 2, k: float = 1.0) -> int:
    return math.ceil(0.30 * k * condor_loss(quantity) / call_gain())


def decide(*held: object, **state: object) -> Decision:
    structures = (*condors(), *held)
    snapshot_args = state.pop("snapshot", {})
    assert isinstance(snapshot_args, dict)
    return decide_hedge(
        vix_snapshot(structures, **snapshot_args),
        book(structures, **state),  # type: ignore[arg-type]
        PARAMS,
        NOW,
    )


def reasons(decision: Decision) -> str:
    return "\n".join([i.reason for i in decision.intents] + [s.reason for s in decision.skips])


def test_a_fresh_layer_buys_every_part_to_its_target() -> None:
    decision = decide(ratio=RATIO)
    rungs = of_kind(decision.intents, StructureKind.FUTURES_RUNG)
    assert [r.legs[0].contract.expiry for r in rungs] == [APR, MAY, JUN]
    assert all(r.kind is IntentKind.OPEN and r.quantity == 1 for r in rungs)
    assert all(leg.side is Side.BUY for r in rungs for leg in r.legs)
    (block,) = of_kind(decision.intents, StructureKind.CALL_BLOCK)
    assert block.quantity == block_target() and strikes_of(block) == [23.0]
    assert block.limit_price == pytest.approx(1.125)
    (spread,) = of_kind(decision.intents, StructureKind.BACKSPREAD)
    short, long = spread.legs
    assert (short.side, short.ratio, long.side, long.ratio) == (Side.SELL, 1, Side.BUY, 3)
    assert all(i.engine is Engine.VIX for i in decision.intents)


def test_the_block_size_is_its_share_of_the_offset_over_one_calls_gain() -> None:
    decision = decide()
    (block,) = of_kind(decision.intents, StructureKind.CALL_BLOCK)
    loss, gain = condor_loss(), call_gain()
    assert block.quantity == math.ceil(0.30 * loss / gain)
    assert f"ceil(0.30 x ${loss:,.0f} / ${gain:,.0f} scenario gain per call)" in block.reason
    assert "79 DTE, delta 0.30" in block.reason and "k 1.000" in block.reason
    assert "SPX -4.0%, VIX +6.0 pts" in block.reason


def test_breadth_divergence_and_a_higher_k_enlarge_the_target() -> None:
    decision = decide(k=2.0, sig=signals(divergence=True))
    (block,) = of_kind(decision.intents, StructureKind.CALL_BLOCK)
    assert block.quantity == block_target(k=2.4)
    assert "k 2.400 = 2.000 x 1.2 (breadth divergence)" in block.reason


def test_a_part_inside_the_band_is_left_alone() -> None:
    target = block_target()
    decision = decide(calls(5, 23.0, quantity=target - 1))
    assert of_kind(decision.intents, StructureKind.CALL_BLOCK) == []
    assert f"held {target - 1} calls, target {target} (band ±25%): inside the band" in reasons(
        decision
    )


def test_a_part_below_the_band_buys_the_difference() -> None:
    target = block_target()
    decision = decide(calls(5, 23.0, quantity=2))
    (block,) = of_kind(decision.intents, StructureKind.CALL_BLOCK)
    assert block.kind is IntentKind.OPEN and block.quantity == target - 2


def test_a_surplus_above_the_band_is_sold_from_the_nearest_expiry_first() -> None:
    target = block_target()
    near = calls(5, 24.0, quantity=target, expiry=CALL_EXPIRY - timedelta(days=7))
    far = calls(6, 23.0, quantity=target)
    decision = decide(far, near)
    closes = of_kind(decision.intents, StructureKind.CALL_BLOCK)
    assert [(c.kind, c.structure_id, c.quantity) for c in closes] == [(IntentKind.CLOSE, 5, target)]
    assert closes[0].legs[0].side is Side.SELL


def test_a_close_may_take_only_some_units_of_a_structure() -> None:
    target = block_target()
    decision = decide(calls(5, 23.0, quantity=2 * target))
    (close,) = of_kind(decision.intents, StructureKind.CALL_BLOCK)
    assert close.kind is IntentKind.CLOSE and close.structure_id == 5
    assert close.quantity == target and close.quantity < 2 * target
    assert f"close {target} of {2 * target} units of call_block #5" in close.reason


def test_without_condors_the_layer_is_held_and_nothing_is_bought() -> None:
    held = (rung(1, APR, 3), calls(2, 23.0, 40))
    decision = decide_hedge(vix_snapshot(held), book(held), PARAMS, NOW)
    assert decision.intents == ()
    assert "no condor loss to offset" in reasons(decision)
    assert "the 2 VIX structures are kept as they are" in reasons(decision)


def test_an_unpriceable_condor_book_stops_the_rebalance() -> None:
    key = condors()[0].legs[0].contract.key
    decision = decide(snapshot={"drop_quotes": [key]})
    assert decision.intents == ()
    assert len(decision.skips) == 1
    assert f"no quote for {key}" in decision.skips[0].reason
    assert "(retry next cycle)" in decision.skips[0].reason


def test_an_exhausted_budget_opens_nothing_but_still_closes() -> None:
    target = block_target()
    surplus_rungs = rung(9, APR, quantity=20)
    decision = decide(surplus_rungs, calls(5, 23.0, quantity=1), layer_cost_year=30_000.0)
    assert all(i.kind is IntentKind.CLOSE for i in decision.intents)
    assert [i.structure_id for i in decision.intents] == [9]
    text = reasons(decision)
    assert f"hedge budget: {target - 1} units at $112 each do not fit, $0 left" in text
    assert "limit $30,000 = 3.0% of net liquidation $1,000,000, $30,000 spent" in text


def test_a_tight_budget_cuts_the_block() -> None:
    decision = decide(layer_cost_year=30_000.0 - 500.0)
    (block,) = of_kind(decision.intents, StructureKind.CALL_BLOCK)
    assert block.quantity == 4  # $500 / $112.50 a call
    assert f"cut from {block_target()} to 4 units by the hedge budget" in block.reason
    assert len(of_kind(decision.intents, StructureKind.FUTURES_RUNG)) == 3  # no premium


def test_a_backspread_credit_pays_for_later_debits() -> None:
    def proposed(kind: StructureKind, cost: float, quantity: int) -> ProposedOpen:
        leg = Leg(vix_call(23.0), Side.BUY)
        intent = Intent(IntentKind.OPEN, Engine.VIX, kind, (leg,), quantity, 0.0, "why")
        return ProposedOpen(kind.value, intent, cost)

    opens = [
        proposed(StructureKind.BACKSPREAD, -35.0, 10),
        proposed(StructureKind.CALL_BLOCK, 100.0, 10),
    ]
    decision = fit_budget(opens, 100.0, "test budget")
    assert [i.quantity for i in decision.intents] == [10, 4]  # $100 + $350 credit pays 4 calls
    assert "cut from 10 to 4 units" in decision.intents[1].reason


def test_a_backspread_at_the_wrong_ratio_is_closed_and_reopened_at_the_new_one() -> None:
    held = backspread(7, 17.0, 24.0, ratio=2, quantity=4)
    decision = decide(held, ratio_override=RATIO)
    spreads = of_kind(decision.intents, StructureKind.BACKSPREAD)
    assert [(i.kind, i.structure_id) for i in spreads] == [
        (IntentKind.CLOSE, 7),
        (IntentKind.OPEN, None),
    ]
    assert spreads[0].quantity == 4
    assert "held at 1:2, the ratio is now 1:3 set by the operator" in spreads[0].reason
    assert [leg.ratio for leg in spreads[1].legs] == [1, 3]


def test_a_ratio_of_1_is_not_a_hedge_and_is_not_sized() -> None:
    decision = decide(ratio_override=1)
    assert of_kind(decision.intents, StructureKind.BACKSPREAD) == []
    assert "a financing trade rather than a hedge" in reasons(decision)


def test_no_chain_skips_the_option_parts_but_not_the_ladder() -> None:
    decision = decide(snapshot={"chains": {}})
    assert of_kind(decision.intents, StructureKind.CALL_BLOCK) == []
    assert of_kind(decision.intents, StructureKind.BACKSPREAD) == []
    assert len(of_kind(decision.intents, StructureKind.FUTURES_RUNG)) == 3
    skips = {s.action: s.reason for s in decision.skips}
    assert skips["call block"].startswith("no VIX option chain within 60-120 DTE")
    assert skips["backspread"].startswith("no VIX option chain within 60-120 DTE")


def test_nan_greeks_never_become_an_order() -> None:
    decision = decide(snapshot={"chains": {CALL_EXPIRY: with_nan_greeks(vix_chain())}})
    options = [i for i in decision.intents if not isinstance(i.legs[0].contract, FutureContract)]
    assert options == []
    assert "no usable call quotes (sane market, finite greeks)" in reasons(decision)


def test_no_futures_listed_skips_the_ladder() -> None:
    decision = decide(snapshot={"listed": ()})
    assert of_kind(decision.intents, StructureKind.FUTURES_RUNG) == []
    assert {s.action: s.reason for s in decision.skips}["ladder"] == (
        "no VIX futures listed in the snapshot"
    )


def test_a_crossed_future_skips_the_ladder() -> None:
    listed = tuple(
        future_quote(MAY, half_spread=-0.1) if f.contract.expiry == MAY else f for f in futures()
    )
    decision = decide(snapshot={"listed": listed})
    assert of_kind(decision.intents, StructureKind.FUTURES_RUNG) == []
    assert "crossed market for VX 2024-05-22 FUT" in reasons(decision)


def test_a_rung_aged_out_of_the_ladder_months_still_counts() -> None:
    # March is month 1 now, no ladder month, but it hedges: with April held, 2 of 3 are held
    # and only one more rung is bought, in May (counting only April, May and June are missing).
    decision = decide(rung(1, MAR), rung(2, APR))
    rungs = of_kind(decision.intents, StructureKind.FUTURES_RUNG)
    assert [(r.legs[0].contract.expiry, r.quantity) for r in rungs] == [(MAY, 1)]
    assert "held 2 futures, target 3 (band ±25%)" in rungs[0].reason


def test_a_ladder_below_the_band_buys_only_the_missing_months() -> None:
    decision = decide(rung(1, APR))
    rungs = of_kind(decision.intents, StructureKind.FUTURES_RUNG)
    assert [(r.legs[0].contract.expiry, r.quantity) for r in rungs] == [(MAY, 1), (JUN, 1)]
    assert "month 3, 0 held" in rungs[0].reason


def test_a_ladder_surplus_sells_the_nearest_rungs() -> None:
    decision = decide(rung(1, JUN, 2), rung(2, APR, 5))
    rungs = of_kind(decision.intents, StructureKind.FUTURES_RUNG)
    assert [(r.kind, r.structure_id, r.quantity) for r in rungs] == [(IntentKind.CLOSE, 2, 4)]
    assert rungs[0].legs[0].side is Side.SELL


def test_orders_are_capped_at_the_contracts_per_order_limit() -> None:
    params = StrategyParams(risk=RiskLimits(max_contracts_per_order=5))
    structures = condors(4)
    decision = decide_hedge(vix_snapshot(structures), book(structures, ratio=RATIO), params, NOW)
    assert decision.intents
    for intent in decision.intents:
        assert max(leg.ratio for leg in intent.legs) * intent.quantity <= 5
    assert "at 5 contracts per order; the rest follows" in reasons(decision)


# --------------------------------------------------------------------------------------------
# The add-on block
# --------------------------------------------------------------------------------------------

EPISODE_START = NOW.date() - timedelta(days=2)


def test_a_low_rsi_episode_buys_a_quarter_of_the_block_once() -> None:
    decision = decide(sig=signals(27.5, "low", EPISODE_START))
    (addon,) = of_kind(decision.intents, StructureKind.ADDON_CALLS)
    assert addon.kind is IntentKind.OPEN
    assert addon.quantity == math.ceil(0.25 * block_target())
    assert strikes_of(addon) == [23.0]
    assert "VIX RSI 27.5 below 30 since" in addon.reason


def test_the_add_on_is_not_bought_twice_in_one_episode() -> None:
    bought = calls(8, 23.0, 3, kind=StructureKind.ADDON_CALLS, opened_at=NOW - timedelta(days=1))
    decision = decide(bought, sig=signals(25.0, "low", EPISODE_START))
    assert of_kind(decision.intents, StructureKind.ADDON_CALLS) == []
    assert f"add-on #8 already bought in the low episode that began {EPISODE_START}" in reasons(
        decision
    )


def test_an_add_on_from_an_earlier_episode_does_not_block_a_new_one() -> None:
    old = calls(8, 23.0, 3, kind=StructureKind.ADDON_CALLS, opened_at=NOW - timedelta(days=30))
    decision = decide(old, sig=signals(25.0, "low", EPISODE_START))
    (addon,) = of_kind(decision.intents, StructureKind.ADDON_CALLS)
    assert addon.kind is IntentKind.OPEN


def test_a_high_rsi_episode_takes_profit_on_every_add_on() -> None:
    held = (
        calls(8, 23.0, 3, kind=StructureKind.ADDON_CALLS),
        calls(9, 25.0, 2, kind=StructureKind.ADDON_CALLS),
    )
    decision = decide(*held, sig=signals(73.14, "high", EPISODE_START))
    closes = of_kind(decision.intents, StructureKind.ADDON_CALLS)
    assert [(c.kind, c.structure_id, c.quantity) for c in closes] == [
        (IntentKind.CLOSE, 8, 3),
        (IntentKind.CLOSE, 9, 2),
    ]
    assert closes[0].reason == "add-on calls #8: take profit: VIX RSI 73.1 above 70"


def test_unknown_signals_take_no_add_on_action() -> None:
    held = calls(8, 23.0, 3, kind=StructureKind.ADDON_CALLS)
    unknown = replace(signals(80.0, "high"), day=None)
    decision = decide(held, sig=unknown)
    assert of_kind(decision.intents, StructureKind.ADDON_CALLS) == []
    assert {s.action: s.reason for s in decision.skips}["add-on calls"] == (
        "signals unknown: no add-on action"
    )


def test_the_add_on_follows_its_signals_even_without_condors() -> None:
    decision = decide_hedge(
        vix_snapshot(), book(sig=signals(25.0, "low", EPISODE_START)), PARAMS, NOW
    )
    (addon,) = decision.intents
    assert addon.structure_kind is StructureKind.ADDON_CALLS and addon.quantity == 1


def test_a_share_of_zero_sells_what_the_part_holds() -> None:
    vix = VixLayerParams(ladder_share=0.5, call_share=0.5, backspread_share=0.0)
    params = StrategyParams(vix=vix)
    structures = (*condors(), backspread(7, 17.0, 25.0, ratio=RATIO, quantity=4))
    decision = decide_hedge(vix_snapshot(structures), book(structures, ratio=RATIO), params, NOW)
    (close,) = of_kind(decision.intents, StructureKind.BACKSPREAD)
    assert close.kind is IntentKind.CLOSE and close.quantity == 4


@pytest.mark.parametrize("source", ["ratio", "ratio_override"])
def test_a_1_to_4_backspread_at_the_maximum_is_built_and_sized(source: str) -> None:
    decision = decide(**{source: 4})
    (spread,) = of_kind(decision.intents, StructureKind.BACKSPREAD)
    short, long = spread.legs
    assert (short.side, short.ratio, long.side, long.ratio) == (Side.SELL, 1, Side.BUY, 4)
    assert long.contract.strike > short.contract.strike
    assert spread.kind is IntentKind.OPEN and spread.quantity >= 1
    three = of_kind(decide(ratio=3).intents, StructureKind.BACKSPREAD)[0]
    assert spread.quantity <= three.quantity  # more long calls per unit: no more units
