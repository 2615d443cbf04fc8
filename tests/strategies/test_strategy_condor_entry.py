"""propose_condor: strikes by delta, legs, credit, sizing, expiry choice and every skip."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import pytest
from snapshots import (
    CREDIT,
    EXPIRY,
    LONG_CALL,
    LONG_PUT,
    NLV,
    NOW,
    SHORT_CALL,
    SHORT_PUT,
    TODAY,
    QuoteTable,
    condor,
    entry_snapshot,
    make_chain,
    option,
    option_quote,
    snapshot,
    standard_quotes,
    state,
    with_delta,
    with_market,
    with_nan_greeks,
)

from broker.calendar import NY
from broker.contracts import Right
from broker.orders import Side
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies.condor_entry import propose_condor
from strategies.decision import Decision
from strategies.params import CondorParams

P, C = Right.PUT, Right.CALL
PARAMS = CondorParams()


def only_intent(decision: Decision) -> Intent:
    assert decision.skips == ()
    assert len(decision.intents) == 1
    return decision.intents[0]


def only_skip_reason(decision: Decision) -> str:
    assert decision.intents == ()
    assert len(decision.skips) == 1
    assert decision.skips[0].action == "open condor"
    return decision.skips[0].reason


def strikes_of(intent: Intent) -> tuple[float, float, float, float]:
    """Return (short put, long put, short call, long call) strikes, in leg order."""
    sp, lp, sc, lc = (leg.contract.strike for leg in intent.legs)
    return sp, lp, sc, lc


def propose(
    table: QuoteTable | None = None,
    structures: Iterable[Structure] = (),
    nlv: float = NLV,
    params: CondorParams = PARAMS,
    expiries: Iterable[date] | None = None,
) -> Decision:
    snap = entry_snapshot(standard_quotes() if table is None else table, expiries)
    return propose_condor(snap, state(structures, nlv), params, NOW)


# --------------------------------------------------------------------------------------------
# Strikes, legs, price and size of the standard chain
# --------------------------------------------------------------------------------------------


def test_short_strikes_are_nearest_016_delta_and_wings_nearest_005() -> None:
    intent = only_intent(propose())
    assert strikes_of(intent) == (SHORT_PUT, LONG_PUT, SHORT_CALL, LONG_CALL)


def test_intent_has_four_legs_sell_put_buy_put_sell_call_buy_call() -> None:
    intent = only_intent(propose())
    assert [(leg.contract.right, leg.side, leg.ratio) for leg in intent.legs] == [
        (P, Side.SELL, 1),
        (P, Side.BUY, 1),
        (C, Side.SELL, 1),
        (C, Side.BUY, 1),
    ]
    assert {leg.contract.expiry for leg in intent.legs} == {EXPIRY}
    assert {leg.contract.trading_class for leg in intent.legs} == {"SPXW"}
    assert intent.kind is IntentKind.OPEN
    assert intent.engine is Engine.CONDOR
    assert intent.structure_kind is StructureKind.IRON_CONDOR
    assert intent.structure_id is None


def test_limit_price_is_minus_the_credit_at_mid() -> None:
    assert only_intent(propose()).limit_price == -CREDIT


@pytest.mark.parametrize(
    ("nlv", "quantity"),
    [
        (1_000_000.0, 2),  # 20,000 / 8,500 = 2.35
        (2_000_000.0, 4),  # 40,000 / 8,500 = 4.71
        (425_000.0, 1),  # exactly one condor's max loss of 8,500
        (849_999.0, 1),  # 16,999.98 is just short of two
        (850_000.0, 2),  # exactly two
        (10_000_000.0, 23),
    ],
)
def test_quantity_is_floor_of_2pct_nlv_over_max_loss(nlv: float, quantity: int) -> None:
    assert only_intent(propose(nlv=nlv)).quantity == quantity


def test_reason_mentions_expiry_strikes_credit_and_max_loss() -> None:
    reason = only_intent(propose()).reason
    assert reason == (
        "open 2x iron condor 2024-04-18 (45 DTE): puts 4700/4800 (short delta -0.16), "
        "calls 5200/5300 (short delta +0.16); credit 15.00 at mid, "
        "max loss $17,000 = 1.70% of net liquidation (limit 2%)"
    )


def test_asymmetric_wings_size_on_the_wider_side() -> None:
    # Move the call wing's 0.05 delta out to 5350: call width 150, put width 100.
    table = standard_quotes()
    table[(C, 5300.0)] = with_delta(table[(C, 5300.0)], 0.06)
    table[(C, 5350.0)] = with_delta(table[(C, 5350.0)], 0.05)
    intent = only_intent(propose(table))
    assert strikes_of(intent) == (SHORT_PUT, LONG_PUT, SHORT_CALL, 5350.0)
    credit = 12.0 + 10.0 - 4.0 - 1.5
    assert intent.limit_price == -credit
    assert intent.quantity == math.floor(0.02 * NLV / ((150 - credit) * 100))  # 1


def test_zero_bid_wing_is_a_usable_one_sided_market() -> None:
    table = standard_quotes()
    table[(P, LONG_PUT)] = with_market(table[(P, LONG_PUT)], 0.0, 8.0)  # mid still 4.00
    intent = only_intent(propose(table))
    assert strikes_of(intent) == (SHORT_PUT, LONG_PUT, SHORT_CALL, LONG_CALL)
    assert intent.limit_price == -CREDIT


def test_wings_are_strictly_beyond_the_shorts_even_if_an_inner_strike_is_nearer() -> None:
    # An inner put (4900) reporting |delta| 0.05 must not become the put wing.
    table = standard_quotes()
    table[(P, 4900.0)] = with_delta(table[(P, 4900.0)], -0.05)
    table[(C, 5100.0)] = with_delta(table[(C, 5100.0)], 0.05)
    intent = only_intent(propose(table))
    assert strikes_of(intent) == (SHORT_PUT, LONG_PUT, SHORT_CALL, LONG_CALL)


# --------------------------------------------------------------------------------------------
# Unusable quotes are never chosen
# --------------------------------------------------------------------------------------------


def test_nan_greeks_on_016_put_picks_next_usable_strike() -> None:
    table = standard_quotes()
    table[(P, SHORT_PUT)] = with_nan_greeks(table[(P, SHORT_PUT)])
    intent = only_intent(propose(table))
    # 4825 (|0.18|, 0.02 away) beats 4775 (|0.135|, 0.025 away); the wing stays 4700.
    assert strikes_of(intent) == (4825.0, LONG_PUT, SHORT_CALL, LONG_CALL)
    credit = 16.0 + 10.0 - 4.0 - 3.0
    assert intent.limit_price == -credit
    assert intent.quantity == 1  # 20,000 // ((125 - 19) * 100) = 20,000 // 10,600


def test_nan_greeks_on_016_call_picks_next_usable_strike() -> None:
    table = standard_quotes()
    table[(C, SHORT_CALL)] = with_nan_greeks(table[(C, SHORT_CALL)])
    intent = only_intent(propose(table))
    assert strikes_of(intent) == (SHORT_PUT, LONG_PUT, 5175.0, LONG_CALL)


def test_nan_greeks_on_005_wing_picks_next_usable_wing() -> None:
    table = standard_quotes()
    table[(P, LONG_PUT)] = with_nan_greeks(table[(P, LONG_PUT)])
    intent = only_intent(propose(table))
    # 4675 (|0.038|, 0.012 away) beats 4725 (|0.08|, 0.03 away).
    assert strikes_of(intent) == (SHORT_PUT, 4675.0, SHORT_CALL, LONG_CALL)


def test_zero_ask_short_put_is_not_chosen() -> None:
    table = standard_quotes()
    table[(P, SHORT_PUT)] = with_market(table[(P, SHORT_PUT)], 0.0, 0.0)
    assert strikes_of(only_intent(propose(table)))[0] == 4825.0


def test_nan_ask_short_put_is_not_chosen() -> None:
    table = standard_quotes()
    table[(P, SHORT_PUT)] = with_market(table[(P, SHORT_PUT)], 11.75, math.nan)
    assert strikes_of(only_intent(propose(table)))[0] == 4825.0


def test_crossed_short_call_is_not_chosen() -> None:
    table = standard_quotes()
    table[(C, SHORT_CALL)] = with_market(table[(C, SHORT_CALL)], 10.5, 9.5)
    assert strikes_of(only_intent(propose(table)))[2] == 5175.0


def test_zero_ask_wing_call_is_not_chosen() -> None:
    table = standard_quotes()
    table[(C, LONG_CALL)] = with_market(table[(C, LONG_CALL)], 0.0, 0.0)
    # 5325 (|0.035|, 0.015 away) beats 5275 (|0.075|, 0.025 away).
    assert strikes_of(only_intent(propose(table)))[3] == 5325.0


def test_all_put_greeks_nan_skips_with_reason() -> None:
    table = {k: with_nan_greeks(q) if k[0] is P else q for k, q in standard_quotes().items()}
    assert only_skip_reason(propose(table)) == (
        "no usable quotes near |delta| 0.16 in the 2024-04-18 chain"
    )


def test_no_usable_call_wing_beyond_the_short_skips_with_reason() -> None:
    table = {
        k: with_market(q, 0.0, 0.0) if k[0] is C and k[1] > SHORT_CALL else q
        for k, q in standard_quotes().items()
    }
    assert only_skip_reason(propose(table)) == (
        "no usable wing strike near |delta| 0.05 beyond the shorts"
    )


def test_short_put_above_short_call_skips_as_unusable_chain() -> None:
    table = standard_quotes()
    # A mislabelled in-the-money put above the calls reports |delta| 0.16.
    table[(P, 5250.0)] = option_quote(option(5250.0, P), 259.5, 260.5, -0.16)
    table[(P, SHORT_PUT)] = with_delta(table[(P, SHORT_PUT)], -0.30)
    reason = only_skip_reason(propose(table))
    assert reason == "short put 5250 is not below short call 5200: chain is unusable"


# --------------------------------------------------------------------------------------------
# Credit
# --------------------------------------------------------------------------------------------


def test_negative_credit_skips_with_reason() -> None:
    table = standard_quotes()
    table[(P, LONG_PUT)] = with_market(table[(P, LONG_PUT)], 29.75, 30.25)  # mid 30
    assert only_skip_reason(propose(table)) == (
        "the condor would not collect a credit (net mid -11.00)"
    )


def test_zero_credit_skips() -> None:
    table = standard_quotes()
    table[(P, LONG_PUT)] = with_market(table[(P, LONG_PUT)], 18.75, 19.25)  # mid 19
    assert only_skip_reason(propose(table)) == (
        "the condor would not collect a credit (net mid 0.00)"
    )


def test_credit_at_least_the_width_opens_nothing() -> None:
    # An arbitrage-looking chain: a 100 credit on 100-wide wings risks nothing; no intent.
    table = standard_quotes()
    table[(P, SHORT_PUT)] = with_market(table[(P, SHORT_PUT)], 96.75, 97.25)  # mid 97
    assert only_skip_reason(propose(table)) == (
        "credit 100.00 >= width 100: the chain's prices are wrong"
    )


# --------------------------------------------------------------------------------------------
# Account size
# --------------------------------------------------------------------------------------------


def test_too_small_account_skips_with_dollar_figures() -> None:
    assert only_skip_reason(propose(nlv=400_000.0)) == (
        "one condor risks $8,500, more than 2.0% of net liquidation $400,000"
    )


def test_account_one_dollar_short_of_one_condor_skips() -> None:
    reason = only_skip_reason(propose(nlv=424_999.0))
    assert "$8,500" in reason and "$424,999" in reason


# --------------------------------------------------------------------------------------------
# Expiry choice
# --------------------------------------------------------------------------------------------


def test_expiry_nearest_45_dte_is_used() -> None:
    other = TODAY + timedelta(days=52)
    chains = {
        EXPIRY: make_chain(standard_quotes().values()),
        other: make_chain(standard_quotes(other).values(), other),
    }
    expiries = [TODAY + timedelta(days=d) for d in (3, 17, 38, 52, 73)] + [EXPIRY]
    decision = propose_condor(snapshot(chains, expiries), state(), PARAMS, NOW)
    intent = only_intent(decision)
    assert "2024-04-18 (45 DTE)" in intent.reason


def test_expiry_at_48_dte_beats_39_and_61() -> None:
    chosen = TODAY + timedelta(days=48)
    expiries = [TODAY + timedelta(days=d) for d in (39, 48, 61)]
    table = standard_quotes(chosen)
    decision = propose_condor(
        snapshot({chosen: make_chain(table.values(), chosen)}, expiries), state(), PARAMS, NOW
    )
    intent = only_intent(decision)
    assert {leg.contract.expiry for leg in intent.legs} == {chosen}
    assert f"{chosen} (48 DTE)" in intent.reason


def test_no_expiry_in_40_60_window_skips_with_reason() -> None:
    expiries = [TODAY + timedelta(days=d) for d in (17, 39, 61, 80)]
    assert only_skip_reason(propose(expiries=expiries)) == "no listed expiry within 40-60 DTE"


def test_no_expiries_listed_skips() -> None:
    decision = propose_condor(snapshot({}, []), state(), PARAMS, NOW)
    assert only_skip_reason(decision) == "no listed expiry within 40-60 DTE"


def test_expiry_in_window_without_chain_skips_no_option_chain() -> None:
    decision = propose_condor(snapshot({}, [EXPIRY]), state(), PARAMS, NOW)
    assert only_skip_reason(decision) == "no option chain for 2024-04-18"


def test_expiry_in_window_with_empty_chain_skips_no_option_chain() -> None:
    decision = propose_condor(snapshot({EXPIRY: make_chain([])}, [EXPIRY]), state(), PARAMS, NOW)
    assert only_skip_reason(decision) == "no option chain for 2024-04-18"


def test_chain_of_another_expiry_is_not_used() -> None:
    # The chosen expiry (45 DTE) has no chain; a chain for 52 DTE must not be traded instead.
    other = TODAY + timedelta(days=52)
    chains = {other: make_chain(standard_quotes(other).values(), other)}
    decision = propose_condor(snapshot(chains, [EXPIRY, other]), state(), PARAMS, NOW)
    assert only_skip_reason(decision) == "no option chain for 2024-04-18"


# --------------------------------------------------------------------------------------------
# Book limits
# --------------------------------------------------------------------------------------------


def test_max_open_reached_skips_with_reason() -> None:
    book = [condor(i, opened_at=NOW - timedelta(days=i)) for i in (1, 2, 3)]
    assert only_skip_reason(propose(structures=book)) == "3 condors open, the limit is 3"


def test_below_max_open_proposes() -> None:
    book = [condor(i, opened_at=NOW - timedelta(days=i)) for i in (1, 2)]
    assert only_intent(propose(structures=book)).quantity == 2


def test_other_engines_do_not_count_towards_max_open() -> None:
    book = [condor(i, opened_at=NOW - timedelta(days=i), engine=Engine.VIX) for i in (1, 2, 3)]
    only_intent(propose(structures=book))


def test_max_open_param_is_honoured() -> None:
    book = [condor(1, opened_at=NOW - timedelta(days=3))]
    decision = propose(structures=book, params=CondorParams(max_open=1))
    assert only_skip_reason(decision) == "1 condors open, the limit is 1"


def test_condor_already_opened_today_skips() -> None:
    book = [condor(1, opened_at=NOW - timedelta(minutes=20))]
    assert only_skip_reason(propose(structures=book)) == (
        "a condor was already opened in this entry window"
    )


def test_condor_opened_today_stored_in_utc_skips() -> None:
    # The journal returns opened_at in UTC: 09:45 New York is 14:45 UTC, the same day.
    opened = datetime(2024, 3, 4, 9, 45, tzinfo=NY).astimezone(UTC)
    assert only_skip_reason(propose(structures=[condor(1, opened_at=opened)])) == (
        "a condor was already opened in this entry window"
    )


def test_condor_opened_on_previous_session_does_not_block() -> None:
    # Friday 15:55 New York (20:55 UTC Friday).
    opened = datetime(2024, 3, 1, 15, 55, tzinfo=NY).astimezone(UTC)
    only_intent(propose(structures=[condor(1, opened_at=opened)]))


def test_vix_structure_opened_today_does_not_block_a_condor() -> None:
    book = [condor(1, opened_at=NOW - timedelta(minutes=5), engine=Engine.VIX)]
    only_intent(propose(structures=book))


# --------------------------------------------------------------------------------------------
# Wings at a fixed width (points) instead of a delta
# --------------------------------------------------------------------------------------------


def width(points: float) -> CondorParams:
    return CondorParams(wing_width=points)


def test_fixed_width_wings_sit_that_many_points_beyond_the_shorts() -> None:
    intent = only_intent(propose(params=width(50.0)))
    assert strikes_of(intent) == (SHORT_PUT, SHORT_PUT - 50, SHORT_CALL, SHORT_CALL + 50)
    # max loss per condor = (50 - credit at mid) x 100; credit = 12 + 10 - 8 - 6 = 8
    assert intent.limit_price == pytest.approx(-8.0)
    assert intent.quantity == math.floor(0.02 * NLV / ((50 - 8.0) * 100))
    assert "puts 4750/4800" in intent.reason and "calls 5200/5250" in intent.reason


def test_a_width_between_listed_strikes_takes_the_nearest_listed_strike() -> None:
    # targets 4740 and 5260: the listed 4750 and 5250 are 10 points off, 4725 and 5275 are 15
    intent = only_intent(propose(params=width(60.0)))
    assert strikes_of(intent) == (SHORT_PUT, 4750.0, SHORT_CALL, 5250.0)


def test_a_width_halfway_between_strikes_takes_the_wider_wing() -> None:
    # targets 4737.5 and 5262.5 are halfway: the wider wing keeps at least the width asked for
    intent = only_intent(propose(params=width(62.5)))
    assert strikes_of(intent) == (SHORT_PUT, 4725.0, SHORT_CALL, 5275.0)


def test_an_unusable_strike_at_the_width_is_passed_over() -> None:
    table = standard_quotes()
    table[(P, 4750.0)] = with_nan_greeks(table[(P, 4750.0)])
    table[(C, 5250.0)] = with_market(table[(C, 5250.0)], 0.0, 0.0)
    intent = only_intent(propose(table, params=width(50.0)))
    assert strikes_of(intent) == (SHORT_PUT, 4725.0, SHORT_CALL, 5275.0)  # 25 off, the wider


def test_a_width_wider_than_the_chain_takes_the_furthest_listed_wing() -> None:
    intent = only_intent(propose(params=width(1000.0)))
    _, long_put, _, long_call = strikes_of(intent)
    listed = standard_quotes()
    assert long_put == min(k for r, k in listed if r is P)
    assert long_call == max(k for r, k in listed if r is C)


def test_no_usable_wing_at_a_width_skips_naming_the_width() -> None:
    table = {
        k: with_market(q, 0.0, 0.0) if k[0] is P and k[1] < SHORT_PUT else q
        for k, q in standard_quotes().items()
    }
    assert only_skip_reason(propose(table, params=width(50.0))) == (
        "no usable wing strike near 50 points beyond the shorts"
    )


def test_a_negative_width_is_refused_by_the_config() -> None:
    with pytest.raises(ValueError, match="wing_width"):
        CondorParams(wing_width=-25.0)
