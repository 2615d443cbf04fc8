"""The rolls job: rungs out of their roll window, call blocks, add-ons and backspreads at 30 DTE."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from vix_snapshots import (
    APR,
    CALL_EXPIRY,
    JUL,
    JUN,
    MAR,
    MAY,
    NOW,
    PARAMS,
    backspread,
    book,
    calls,
    future,
    future_quote,
    futures,
    rung,
    strikes_of,
    vix_chain,
    vix_snapshot,
)

from broker.calendar import NY
from broker.orders import Leg, Side
from broker.structures import IntentKind, Structure, StructureKind
from strategies.decision import Decision
from strategies.vix_layer import decide_vix_rolls

THURSDAY = datetime(2024, 3, 7, 10, 15, tzinfo=NY)  # March VX is 9 trading days away
ROLL_DAY_EXPIRY = date(2024, 4, 3)  # 30 DTE on 2024-03-04


def rolls(*held: Structure, at: datetime = THURSDAY, **snapshot: object) -> Decision:
    return decide_vix_rolls(
        vix_snapshot(held, at=at, **snapshot),  # type: ignore[arg-type]
        book(held, ratio=3),
        PARAMS,
        at,
    )


def test_a_rung_inside_its_roll_window_rolls_into_the_ladder() -> None:
    decision = rolls(rung(1, MAR, quantity=2))
    (roll,) = decision.intents
    assert roll.kind is IntentKind.ROLL and roll.structure_id == 1
    assert roll.structure_kind is StructureKind.FUTURES_RUNG and roll.quantity == 2
    assert roll.legs == (Leg(future(MAR), Side.SELL), Leg(future(MAY), Side.BUY))
    assert roll.result_legs == (Leg(future(MAY), Side.BUY),)
    assert roll.carry_price == 0.0
    assert roll.limit_price == 2.0  # May at 17 minus March at 15
    assert "VX 2024-03-20 FUT is 9 trading days from expiry (roll at 10)" in roll.reason
    assert "ladder month 2 with 0 held (the fewest)" in roll.reason


def test_the_rung_goes_to_the_ladder_month_holding_the_fewest_contracts() -> None:
    decision = rolls(rung(1, MAR), rung(2, MAY), rung(3, JUN))
    (roll,) = decision.intents
    assert roll.result_legs == (Leg(future(JUL), Side.BUY),)


def test_two_rungs_rolling_together_spread_over_the_months() -> None:
    decision = rolls(rung(1, MAR), rung(2, MAR), rung(3, MAY))
    targets = [r.result_legs[0].contract.expiry for r in decision.intents]
    assert targets == [JUN, JUL]


def test_a_rung_outside_its_roll_window_is_kept() -> None:
    assert rolls(rung(1, APR)).intents == ()
    assert rolls(rung(1, MAR), at=NOW).intents == ()  # 12 trading days on Monday


def test_a_roll_into_a_crossed_future_waits_for_the_next_cycle() -> None:
    listed = tuple(
        future_quote(MAY, half_spread=-0.1, at=THURSDAY) if f.contract.expiry == MAY else f
        for f in futures(at=THURSDAY)
    )
    decision = rolls(rung(1, MAR), listed=listed)
    assert decision.intents == ()
    (skip,) = decision.skips
    assert skip.action == "roll futures_rung #1"
    assert "crossed market for VX 2024-05-22 FUT" in skip.reason
    assert skip.reason.endswith("(retry next cycle)")


def test_a_rung_without_a_quote_is_not_rolled() -> None:
    delisted = tuple(f for f in futures(at=THURSDAY) if f.contract.expiry != MAR)
    decision = rolls(rung(1, MAR), drop_quotes=[future(MAR).key], listed=delisted)
    assert decision.intents == ()
    assert "no quote for VX 2024-03-20 FUT" in decision.skips[0].reason


def test_without_sessions_the_rungs_wait() -> None:
    decision = rolls(rung(1, MAR), sessions=())
    assert decision.intents == ()
    assert decision.skips[0].reason == "no trading sessions in the snapshot: cannot count days"


def test_a_call_block_at_30_dte_rolls_to_a_fresh_block() -> None:
    held = calls(4, 21.0, quantity=6, expiry=ROLL_DAY_EXPIRY)
    decision = rolls(held, at=NOW)
    (roll,) = decision.intents
    assert roll.kind is IntentKind.ROLL and roll.structure_id == 4 and roll.quantity == 6
    assert [leg.side for leg in roll.legs] == [Side.SELL, Side.BUY]
    assert roll.legs[0].contract == held.legs[0].contract
    assert roll.result_legs == roll.legs[1:]
    assert roll.result_legs[0].contract.expiry == CALL_EXPIRY
    assert strikes_of(roll) == [21.0, 23.0]
    assert "VIX 2024-04-03 at 30 DTE (roll at 30)" in roll.reason
    assert "into VIX 2024-05-22 C23 (79 DTE, delta 0.30)" in roll.reason


def test_a_call_block_at_31_dte_is_kept() -> None:
    held = calls(4, 21.0, quantity=6, expiry=date(2024, 4, 4))
    assert rolls(held, at=NOW).intents == ()


def test_an_add_on_rolls_and_stays_an_add_on() -> None:
    held = calls(4, 21.0, 2, ROLL_DAY_EXPIRY, kind=StructureKind.ADDON_CALLS)
    (roll,) = rolls(held, at=NOW).intents
    assert roll.structure_kind is StructureKind.ADDON_CALLS


def test_a_backspread_at_30_dte_rolls_at_the_effective_ratio() -> None:
    held = backspread(5, 16.0, 20.0, ratio=2, quantity=3, expiry=ROLL_DAY_EXPIRY)
    (roll,) = rolls(held, at=NOW).intents
    assert roll.structure_kind is StructureKind.BACKSPREAD and roll.quantity == 3
    closing, opening = roll.legs[:2], roll.legs[2:]
    assert [(leg.side, leg.ratio) for leg in closing] == [(Side.BUY, 1), (Side.SELL, 2)]
    assert [(leg.side, leg.ratio) for leg in opening] == [(Side.SELL, 1), (Side.BUY, 3)]
    assert roll.result_legs == opening


def test_a_call_roll_without_a_chain_waits_for_the_next_cycle() -> None:
    held = calls(4, 21.0, quantity=6, expiry=ROLL_DAY_EXPIRY)
    decision = rolls(held, at=NOW, chains={})
    assert decision.intents == ()
    assert decision.skips[0].reason.startswith("no VIX option chain within 60-120 DTE")
    assert decision.skips[0].reason.endswith("(retry next cycle)")


def test_a_fresh_block_is_taken_from_the_chain_of_the_day() -> None:
    held = calls(4, 21.0, quantity=6, expiry=ROLL_DAY_EXPIRY)
    decision = rolls(held, at=NOW, chains={CALL_EXPIRY: vix_chain(vol=0.4)})
    (roll,) = decision.intents
    assert strikes_of(roll) == [21.0, 22.0]  # the clamp applies to rolls too


def spent(*held: Structure, cost: float, at: datetime = THURSDAY) -> Decision:
    state = book(held, ratio=3, layer_cost_year=cost)
    return decide_vix_rolls(vix_snapshot(held, at=at), state, PARAMS, at)


def test_with_the_budget_spent_a_rung_due_for_its_roll_is_closed_instead() -> None:
    budget = PARAMS.hedge.budget_pct * 1_000_000
    (close,) = spent(rung(1, MAR, quantity=2), cost=budget + 1).intents
    assert close.kind is IntentKind.CLOSE and close.structure_id == 1 and close.quantity == 2
    assert close.legs == (Leg(future(MAR), Side.SELL),)
    assert "instead of rolling it" in close.reason and "budget" in close.reason
    (roll,) = spent(rung(1, MAR, quantity=2), cost=budget - 1).intents
    assert roll.kind is IntentKind.ROLL


def test_with_the_budget_spent_a_call_block_at_30_dte_is_closed_not_rolled() -> None:
    budget = PARAMS.hedge.budget_pct * 1_000_000
    block = calls(2, 21.0, quantity=5, expiry=ROLL_DAY_EXPIRY)
    (close,) = spent(block, cost=budget * 2, at=NOW).intents
    assert close.kind is IntentKind.CLOSE and close.structure_id == 2 and close.quantity == 5


def test_a_rung_rolls_from_exactly_10_trading_days_before_expiry_not_11() -> None:
    wednesday = THURSDAY - timedelta(days=1)  # March VX (2024-03-20) is 10 trading days away
    (roll,) = rolls(rung(1, MAR), at=wednesday).intents
    assert "is 10 trading days from expiry (roll at 10)" in roll.reason
    assert rolls(rung(1, MAR), at=wednesday - timedelta(days=1)).intents == ()  # 11 days
