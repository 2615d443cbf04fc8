"""Condor defence: the stop, the delta roll (or close), the rules' order, and expiries_to_roll.

The held condors are priced off the standard chain (snapshots.py). A tested put side is a narrow
vertical near the money (short 4900, long 4875): buying it back costs 31 - 26 = 5.00 and the new
4800/4700 vertical at the 0.16/0.05 deltas sells for 12 - 4 = 8.00, a 3.00 credit roll.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import pytest
from snapshots import (
    EXPIRY,
    NOW,
    QuoteTable,
    condor,
    leg_quotes_for,
    make_chain,
    portfolio,
    quotes_of,
    snapshot,
    standard_quotes,
    with_delta,
    with_market,
    with_nan_greeks,
)

from broker.calendar import NY
from broker.contracts import OptionContract, Right
from broker.market import OptionChain, OptionQuote
from broker.orders import Leg, Side
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies.condor_exits import manage_condors
from strategies.condor_roll import expiries_to_roll, net_legs
from strategies.decide import decide_management
from strategies.decision import Decision, Skip
from strategies.params import CondorParams, StrategyParams

P, C = Right.PUT, Right.CALL
PARAMS = CondorParams()
TESTED_PUT = (4875.0, 4900.0, 5200.0, 5300.0)  # (long put, short put, short call, long call)
TESTED_CALL = (4700.0, 4800.0, 5100.0, 5125.0)


def table_moved(right: Right = P, strike: float = 4900.0, delta: float = -0.30) -> QuoteTable:
    """Return the standard chain with one strike's delta moved (a tested short)."""
    table = standard_quotes()
    table[(right, strike)] = with_delta(table[(right, strike)], delta)
    return table


def manage(
    structures: Iterable[Structure],
    table: QuoteTable,
    *,
    chain: OptionChain | None = None,
    with_chain: bool = True,
    params: CondorParams = PARAMS,
    now: datetime = NOW,
    nlv: float = 1_000_000.0,
) -> Decision:
    """Manage `structures` with their legs quoted from `table` and the chain built from it."""
    held = [q for s in structures for q in quotes_of(s, table)]
    chains = {EXPIRY: chain or make_chain(table.values())} if with_chain else {}
    snap = snapshot(chains, [EXPIRY], held, now)
    return manage_condors(snap, portfolio(structures, nlv), params, now)


def only_intent(decision: Decision) -> Intent:
    assert decision.skips == ()
    assert len(decision.intents) == 1
    return decision.intents[0]


def only_skip(decision: Decision) -> Skip:
    assert decision.intents == ()
    assert len(decision.skips) == 1
    return decision.skips[0]


def legs_of(intent_legs: Iterable[Leg]) -> list[tuple[str, float, Side, int]]:
    out = []
    for leg in intent_legs:
        contract = leg.contract
        assert isinstance(contract, OptionContract)
        out.append((contract.right.value, contract.strike, leg.side, leg.ratio))
    return out


# --------------------------------------------------------------------------------------------
# The delta roll
# --------------------------------------------------------------------------------------------


def test_short_put_at_030_delta_is_rolled_for_a_credit() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    intent = only_intent(manage([structure], table_moved()))
    assert intent.kind is IntentKind.ROLL
    assert (intent.engine, intent.structure_kind) == (Engine.CONDOR, StructureKind.IRON_CONDOR)
    assert (intent.structure_id, intent.quantity) == (7, 2)
    assert legs_of(intent.legs) == [
        ("P", 4900.0, Side.BUY, 1),
        ("P", 4875.0, Side.SELL, 1),
        ("P", 4800.0, Side.SELL, 1),
        ("P", 4700.0, Side.BUY, 1),
    ]
    assert intent.limit_price == pytest.approx(-3.0)  # 31 - 26 - 12 + 4
    assert legs_of(intent.result_legs) == [
        ("P", 4800.0, Side.SELL, 1),
        ("P", 4700.0, Side.BUY, 1),
        ("C", 5200.0, Side.SELL, 1),
        ("C", 5300.0, Side.BUY, 1),
    ]
    assert intent.carry_price == pytest.approx(-7.0)  # the kept calls: -10 + 3
    assert intent.reason == (
        "roll condor #7: short put 4900 at delta -0.30 reached 0.30; close puts 4875/4900, "
        "open puts 4700/4800 (short delta -0.16) for a 3.00 credit at mid; max loss $17,000"
    )


def test_short_call_at_031_delta_is_rolled_up_for_a_credit() -> None:
    structure = condor(8, quantity=1, credit=6.0, strikes=TESTED_CALL)
    intent = only_intent(manage([structure], table_moved(C, 5100.0, 0.31)))
    assert intent.kind is IntentKind.ROLL
    assert legs_of(intent.legs) == [
        ("C", 5100.0, Side.BUY, 1),
        ("C", 5125.0, Side.SELL, 1),
        ("C", 5200.0, Side.SELL, 1),
        ("C", 5300.0, Side.BUY, 1),
    ]
    assert intent.limit_price == pytest.approx(-1.0)  # 26 - 20 - 10 + 3
    assert legs_of(intent.result_legs) == [
        ("P", 4800.0, Side.SELL, 1),
        ("P", 4700.0, Side.BUY, 1),
        ("C", 5200.0, Side.SELL, 1),
        ("C", 5300.0, Side.BUY, 1),
    ]
    assert intent.carry_price == pytest.approx(-8.0)  # the kept puts: -12 + 4
    assert "short call 5100 at delta +0.31 reached 0.30" in intent.reason


def test_roll_net_price_equals_carry_plus_new_condor_mid_minus_old_condor_mid() -> None:
    # What the executor books: old close at (its mid - carry), new open at (net - that).
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    table = table_moved()
    intent = only_intent(manage([structure], table))
    mid = {q.contract.key: q.quote.mid for q in table.values()}
    old_close = sum(-leg.signed_ratio * mid[leg.contract.key] for leg in structure.legs)
    new_open = sum(leg.signed_ratio * mid[leg.contract.key] for leg in intent.result_legs)
    assert intent.limit_price == pytest.approx(old_close + new_open)
    assert new_open == pytest.approx(-15.0)


def test_short_put_at_0299_delta_is_not_rolled() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    assert manage([structure], table_moved(delta=-0.299)) == Decision()


def test_roll_delta_param_is_honoured() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    table = standard_quotes()  # 4900 put at -0.28
    assert manage([structure], table) == Decision()
    intent = only_intent(manage([structure], table, params=CondorParams(roll_delta=0.28)))
    assert intent.kind is IntentKind.ROLL


def test_roll_that_costs_a_debit_closes_the_condor() -> None:
    # Buying back 4900/4850 costs 31 - 21 = 10.00; the new 4800/4700 sells for 8.00.
    structure = condor(7, credit=8.0, strikes=(4850.0, 4900.0, 5200.0, 5300.0))
    intent = only_intent(manage([structure], table_moved()))
    assert intent.kind is IntentKind.CLOSE
    assert intent.structure_id == 7
    assert intent.limit_price == pytest.approx(17.0)  # 31 - 21 + 10 - 3
    assert intent.reason == (
        "close condor #7: short put 4900 at delta -0.30 reached 0.30; "
        "roll would cost a 2.00 debit: closing instead (new puts 4700/4800)"
    )


def test_roll_that_costs_040_closes_with_the_debit_in_the_reason() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    table = table_moved()
    table[(P, 4875.0)] = with_market(table[(P, 4875.0)], 22.35, 22.85)  # mid 22.60
    intent = only_intent(manage([structure], table))
    assert intent.kind is IntentKind.CLOSE
    assert "roll would cost a 0.40 debit: closing instead" in intent.reason


def test_roll_for_exactly_no_credit_closes() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    table = table_moved()
    table[(P, 4875.0)] = with_market(table[(P, 4875.0)], 22.75, 23.25)  # mid 23: net 0.00
    intent = only_intent(manage([structure], table))
    assert intent.kind is IntentKind.CLOSE
    assert "roll would collect no credit (0.00): closing instead" in intent.reason


def test_new_short_not_further_out_closes_the_condor() -> None:
    # Only the tested 4800 put has usable greeks in the chain: it is the nearest to 0.16.
    structure = condor(7, credit=15.0)
    table = table_moved(P, 4800.0, -0.30)
    chain = make_chain(
        with_nan_greeks(q) if right is P and strike != 4800.0 else q
        for (right, strike), q in table.items()
    )
    intent = only_intent(manage([structure], table, chain=chain))
    assert intent.kind is IntentKind.CLOSE
    assert intent.reason == (
        "close condor #7: short put 4800 at delta -0.30 reached 0.30; the new short put 4800 "
        "(delta -0.30) is not below the tested 4800: closing instead"
    )


def test_new_short_call_below_the_tested_one_closes() -> None:
    structure = condor(7, credit=15.0)
    table = table_moved(C, 5200.0, 0.30)
    table[(C, 5175.0)] = with_delta(table[(C, 5175.0)], 0.16)  # a stale, nearer 0.16 quote
    for strike in (5225.0, 5250.0, 5275.0, 5325.0, 5350.0, 5375.0):
        table[(C, strike)] = with_nan_greeks(table[(C, strike)])
    chain = make_chain(q for (r, k), q in table.items() if not (r is C and k == 5300.0))
    intent = only_intent(manage([structure], table, chain=chain))
    assert intent.kind is IntentKind.CLOSE
    assert "the new short call 5175 (delta +0.16) is not above the tested 5200" in intent.reason


def test_both_sides_tested_closes_the_condor() -> None:
    structure = condor(7, credit=15.0)
    table = table_moved(P, 4800.0, -0.31)
    table[(C, 5200.0)] = with_delta(table[(C, 5200.0)], 0.33)
    intent = only_intent(manage([structure], table))
    assert intent.kind is IntentKind.CLOSE
    assert intent.reason == (
        "close condor #7: both sides tested (short put 4800 at delta -0.31 reached 0.30, "
        "short call 5200 at delta +0.33 reached 0.30): closing"
    )


def test_missing_chain_skips_the_roll_with_a_reason() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    skipped = only_skip(manage([structure], table_moved(), with_chain=False))
    assert skipped == Skip(
        "roll condor #7",
        "short put 4900 at delta -0.30 reached 0.30 but no option chain for 2024-04-18 "
        "to roll it (retry next cycle)",
    )


def test_chain_of_another_expiry_does_not_count() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    table = table_moved()
    held = quotes_of(structure, table)
    other = EXPIRY + timedelta(days=28)
    snap = snapshot({other: make_chain(standard_quotes(other).values(), other)}, [other], held)
    skipped = only_skip(manage_condors(snap, portfolio([structure]), PARAMS, NOW))
    assert "no option chain for 2024-04-18" in skipped.reason


def test_empty_chain_skips_the_roll() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    skipped = only_skip(manage([structure], table_moved(), chain=OptionChain("SPXW", EXPIRY, ())))
    assert skipped.reason.endswith("no option chain for 2024-04-18 to roll it (retry next cycle)")


def test_chain_with_nan_greeks_on_every_put_skips_the_roll() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    table = table_moved()
    chain = make_chain(with_nan_greeks(q) if right is P else q for (right, _), q in table.items())
    skipped = only_skip(manage([structure], table, chain=chain))
    assert skipped.reason == (
        "short put 4900 at delta -0.30 reached 0.30 but no usable put quotes near |delta| 0.16 "
        "in the 2024-04-18 chain (retry next cycle)"
    )


def test_no_usable_wing_beyond_the_new_short_skips_the_roll() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    table = table_moved()
    chain = make_chain(
        with_nan_greeks(q) if right is P and strike < 4800.0 else q
        for (right, strike), q in table.items()
    )
    skipped = only_skip(manage([structure], table, chain=chain))
    assert "no usable put wing near |delta| 0.05 beyond 4800 in the 2024-04-18 chain" in (
        skipped.reason
    )


def test_nan_delta_on_the_tested_short_skips_management() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    table = table_moved()
    table[(P, 4900.0)] = with_nan_greeks(table[(P, 4900.0)])
    skipped = only_skip(manage([structure], table))
    assert skipped == Skip(
        "manage condor #7", "greeks not finite for SPXW 2024-04-18 P 4900 (retry next cycle)"
    )


def test_roll_onto_the_old_wing_sells_it_twice_in_one_leg() -> None:
    # Held 4800/4825 with 4825 tested: the new short is the old wing, 4800.
    structure = condor(7, credit=6.0, strikes=(4800.0, 4825.0, 5200.0, 5300.0))
    intent = only_intent(manage([structure], table_moved(P, 4825.0, -0.30)))
    assert intent.kind is IntentKind.ROLL
    assert legs_of(intent.legs) == [
        ("P", 4825.0, Side.BUY, 1),
        ("P", 4800.0, Side.SELL, 2),
        ("P", 4700.0, Side.BUY, 1),
    ]
    assert intent.limit_price == pytest.approx(-4.0)  # 16 - 2 x 12 + 4


def test_rolled_condor_beyond_the_max_loss_closes() -> None:
    # 3 units of the rolled 100-wide condor at a 15.00 credit risk 3 x 8,500 > 2 % of 1M.
    structure = condor(7, quantity=3, credit=6.0, strikes=TESTED_PUT)
    intent = only_intent(manage([structure], table_moved()))
    assert intent.kind is IntentKind.CLOSE
    assert intent.reason == (
        "close condor #7: short put 4900 at delta -0.30 reached 0.30; the rolled condor "
        "(puts 4700/4800) would risk $25,500, more than 2.0% of net liquidation $1,000,000: "
        "closing instead"
    )


def test_rolled_condor_exactly_at_the_max_loss_is_rolled() -> None:
    structure = condor(7, quantity=2, credit=6.0, strikes=TESTED_PUT)
    intent = only_intent(manage([structure], table_moved(), nlv=850_000.0))  # 2% = 17,000
    assert intent.kind is IntentKind.ROLL


def test_net_legs_merges_and_cancels_contracts() -> None:
    a, b = condor(1).legs[0], condor(1).legs[1]
    assert net_legs([a, b.reversed(), a, b]) == (Leg(a.contract, Side.SELL, 2),)
    assert net_legs([a, a.reversed()]) == ()


# --------------------------------------------------------------------------------------------
# The stop
# --------------------------------------------------------------------------------------------


def manage_at_mids(
    structure: Structure, mids: tuple[float, ...], params: CondorParams = PARAMS
) -> Decision:
    quotes = leg_quotes_for(structure, mids)  # deltas +/-0.10: never tested
    return manage_condors(snapshot({}, [], quotes), portfolio([structure]), params, NOW)


def test_stop_exactly_at_2x_the_credit_closes() -> None:
    structure = condor(7)  # 15.00 credit; closing for 45.00 is a loss of 30.00
    intent = only_intent(manage_at_mids(structure, (40.0, 2.0, 8.0, 1.0)))
    assert intent.kind is IntentKind.CLOSE
    assert intent.limit_price == 45.0
    assert intent.reason == (
        "close condor #7: stop: loss 2.0x the 15.00 credit (buy back for 45.00; the stop is at 2x)"
    )


def test_loss_just_below_2x_is_not_stopped() -> None:
    structure = condor(7)
    assert manage_at_mids(structure, (39.75, 2.0, 8.0, 1.0)) == Decision()  # loss 29.75


def test_stop_reason_names_the_multiple_and_the_credit() -> None:
    structure = condor(7, credit=1.85)  # closing for 6.15 is a loss of 4.30 = 2.3x
    intent = only_intent(manage_at_mids(structure, (5.0, 0.5, 2.25, 0.6)))
    assert intent.reason.startswith("close condor #7: stop: loss 2.3x the 1.85 credit")


def test_stop_multiple_param_is_honoured() -> None:
    structure = condor(7)
    mids = (25.0, 2.0, 8.0, 1.0)  # close 30.00: a loss of 1.0x
    assert manage_at_mids(structure, mids) == Decision()
    intent = only_intent(manage_at_mids(structure, mids, CondorParams(stop_loss_multiple=1.0)))
    assert "stop: loss 1.0x the 15.00 credit" in intent.reason


def test_debit_condor_has_no_stop() -> None:
    structure = condor(7, credit=-2.0)
    assert manage_at_mids(structure, (40.0, 2.0, 8.0, 1.0)) == Decision()


# --------------------------------------------------------------------------------------------
# The order of the rules: exit DTE, stop, take profit, roll
# --------------------------------------------------------------------------------------------


def test_exit_dte_wins_over_the_stop() -> None:
    structure = condor(7)
    at_21_dte = datetime(2024, 3, 28, 11, 0, tzinfo=NY)
    quotes = leg_quotes_for(structure, (40.0, 2.0, 8.0, 1.0))
    decision = manage_condors(snapshot({}, [], quotes), portfolio([structure]), PARAMS, at_21_dte)
    assert only_intent(decision).reason == "close condor #7: 21 DTE reached the exit at 21 DTE"


def test_exit_dte_wins_over_the_roll() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    at_20_dte = datetime(2024, 3, 29, 11, 0, tzinfo=NY)
    intent = only_intent(manage([structure], table_moved(), now=at_20_dte))
    assert intent.reason == "close condor #7: 20 DTE reached the exit at 21 DTE"


def test_stop_wins_over_the_roll() -> None:
    # The held condor closes for 12.00 against a 4.00 credit: a loss of 2x, and a tested put.
    structure = condor(7, credit=4.0, strikes=TESTED_PUT)
    intent = only_intent(manage([structure], table_moved()))
    assert intent.kind is IntentKind.CLOSE
    assert intent.reason.startswith("close condor #7: stop: loss 2.0x the 4.00 credit")


def test_take_profit_wins_over_the_roll() -> None:
    structure = condor(7, credit=24.0, strikes=TESTED_PUT)  # closes for 12.00: 50 % captured
    intent = only_intent(manage([structure], table_moved()))
    assert intent.kind is IntentKind.CLOSE
    assert "take profit" in intent.reason


def test_decide_management_rolls_and_leaves_other_condors_alone() -> None:
    tested = condor(7, credit=6.0, strikes=TESTED_PUT)
    calm = condor(8, credit=15.0, quantity=1)  # closes for 15.00: nothing to do
    table = table_moved()
    held = quotes_of(tested, table) + quotes_of(calm, table)
    snap = snapshot({EXPIRY: make_chain(table.values())}, [EXPIRY], held)
    decision = decide_management(snap, portfolio([tested, calm]), StrategyParams(), NOW)
    assert [(i.kind, i.structure_id) for i in decision.intents] == [(IntentKind.ROLL, 7)]
    assert decision.skips == ()


# --------------------------------------------------------------------------------------------
# expiries_to_roll: which chains the bot quotes for the roll test
# --------------------------------------------------------------------------------------------

LATER = date(2024, 5, 16)


def held_quotes(structure: Structure, deltas: Iterable[float]) -> dict[str, OptionQuote]:
    quotes = leg_quotes_for(structure, (10.0, 2.0, 10.0, 2.0))
    moved = [with_delta(q, d) for q, d in zip(quotes, deltas, strict=True)]
    return {q.contract.key: q for q in moved}


def test_expiries_to_roll_lists_the_expiries_of_tested_condors() -> None:
    tested = condor(1, expiry=EXPIRY)
    calm = condor(2, expiry=LATER)
    quotes = held_quotes(tested, (-0.30, -0.05, 0.10, 0.03)) | held_quotes(
        calm, (-0.29, -0.05, 0.29, 0.03)
    )
    assert expiries_to_roll([tested, calm], quotes, PARAMS) == {EXPIRY}


def test_expiries_to_roll_counts_a_tested_call_and_both_sides() -> None:
    first = condor(1, expiry=EXPIRY)
    second = condor(2, expiry=LATER)
    quotes = held_quotes(first, (-0.10, -0.05, 0.30, 0.03)) | held_quotes(
        second, (-0.40, -0.05, 0.35, 0.03)
    )
    assert expiries_to_roll([first, second], quotes, PARAMS) == {EXPIRY, LATER}


def test_expiries_to_roll_ignores_long_legs_vix_structures_and_unknown_deltas() -> None:
    long_tested = condor(1, expiry=EXPIRY)  # only the long put is past 0.30
    hedge = condor(2, expiry=LATER, engine=Engine.VIX)
    unknown = condor(3, expiry=date(2024, 6, 20))
    quotes = (
        held_quotes(long_tested, (-0.20, -0.35, 0.10, 0.03))
        | held_quotes(hedge, (-0.40, -0.05, 0.10, 0.03))
        | {k: with_nan_greeks(q) for k, q in held_quotes(unknown, (-0.4, 0, 0.4, 0)).items()}
    )
    assert expiries_to_roll([long_tested, hedge, unknown], quotes, PARAMS) == set()


def test_expiries_to_roll_without_quotes_is_empty() -> None:
    assert expiries_to_roll([condor(1)], {}, PARAMS) == set()
    assert expiries_to_roll([], {}, PARAMS) == set()


def test_a_roll_with_fixed_width_wings_opens_the_new_vertical_at_that_width() -> None:
    structure = condor(7, credit=6.0, strikes=TESTED_PUT)
    intent = only_intent(manage([structure], table_moved(), params=CondorParams(wing_width=75.0)))
    assert intent.kind is IntentKind.ROLL
    assert legs_of(intent.legs) == [
        ("P", 4900.0, Side.BUY, 1),
        ("P", 4875.0, Side.SELL, 1),
        ("P", 4800.0, Side.SELL, 1),
        ("P", 4725.0, Side.BUY, 1),
    ]
    assert intent.limit_price == pytest.approx(-1.0)  # 31 - 26 - 12 + 6
    assert "open puts 4725/4800" in intent.reason
