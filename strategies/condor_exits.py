"""Iron condor management: exit DTE, stop, take profit, then the delta roll.

Rules, in this order, for each open condor whose legs all have usable quotes (DESIGN.md
section 2, "Front engine"); the first that applies decides:
1. exit DTE: close at `exit_dte` days to expiry or fewer;
2. stop: close when the cost to close at mid minus the entry credit is at least
   `stop_loss_multiple` x the credit (a loss of 2x the credit by default);
3. take profit: close when the cost to close is at most (1 - `take_profit_pct`) x the credit;
4. delta roll: when one short's |delta| reached `roll_delta`, roll that side
   (`strategies.condor_roll`); when both did, close.
Stop and take profit need an entry credit: a condor opened for a debit has neither. Prices are
mids of the legs; boundary hits count despite float noise in the sums.
"""

from __future__ import annotations

from datetime import datetime

from broker.market import MarketSnapshot
from broker.structures import Engine, Intent, IntentKind, Structure
from strategies.condor_roll import CannotRoll, CloseInstead, plan_roll, tested_shorts
from strategies.decision import Decision, PortfolioState, skip
from strategies.expiry import days_to_expiry
from strategies.params import CondorParams
from strategies.pricing_of_legs import leg_problems, net_mid

# Sums of leg prices carry float noise (7.500000000000001); a boundary hit must count.
PRICE_TOLERANCE = 1e-9


def manage_condors(
    snapshot: MarketSnapshot, state: PortfolioState, params: CondorParams, now: datetime
) -> Decision:
    """Return close and roll intents for condors that reached an exit or roll rule."""
    decision = Decision()
    nlv = state.account.net_liquidation
    for structure in state.open_of(Engine.CONDOR):
        decision = decision + _manage_one(structure, snapshot, params, now, nlv)
    return decision


def _manage_one(
    structure: Structure,
    snapshot: MarketSnapshot,
    params: CondorParams,
    now: datetime,
    nlv: float,
) -> Decision:
    action = f"manage condor #{structure.id}"
    problems = leg_problems(structure.legs, snapshot.leg_quotes)
    if problems:
        return skip(action, "; ".join(problems) + " (retry next cycle)")
    close_debit = net_mid(tuple(leg.reversed() for leg in structure.legs), snapshot.leg_quotes)
    reason = _exit_reason(structure, close_debit, params, now)
    if reason is not None:
        return _close(structure, close_debit, reason)
    return _roll_test(structure, snapshot, params, nlv, close_debit)


def _exit_reason(
    structure: Structure, close_debit: float, params: CondorParams, now: datetime
) -> str | None:
    """Return why the condor closes now by the exit DTE, the stop or take profit, or None."""
    expiry = min(leg.contract.expiry for leg in structure.legs)
    dte = days_to_expiry(expiry, now.date())
    credit = structure.entry_credit
    if dte <= params.exit_dte:
        return f"{dte} DTE reached the exit at {params.exit_dte} DTE"
    if credit <= 0:
        return None
    loss = close_debit - credit
    if loss >= params.stop_loss_multiple * credit - PRICE_TOLERANCE:
        return (
            f"stop: loss {loss / credit:.1f}x the {credit:.2f} credit "
            f"(buy back for {close_debit:.2f}; the stop is at {params.stop_loss_multiple:g}x)"
        )
    if close_debit <= credit * (1 - params.take_profit_pct) + PRICE_TOLERANCE:
        captured = (credit - close_debit) / credit
        return (
            f"take profit: buy back for {close_debit:.2f} against a {credit:.2f} credit, "
            f"{captured:.0%} captured (target {params.take_profit_pct:.0%})"
        )
    return None


def _roll_test(
    structure: Structure,
    snapshot: MarketSnapshot,
    params: CondorParams,
    nlv: float,
    close_debit: float,
) -> Decision:
    """Roll the tested side, close when both sides or the roll fail, or do nothing."""
    tested = tested_shorts(structure, snapshot.leg_quotes, params.roll_delta)
    if not tested:
        return Decision()
    if len(tested) > 1:
        deltas = ", ".join(t.describe(params.roll_delta) for t in tested)
        return _close(structure, close_debit, f"both sides tested ({deltas}): closing")
    (one,) = tested
    chain = snapshot.chains.get(one.contract.expiry)
    plan = plan_roll(structure, one, chain, snapshot.leg_quotes, params, nlv)
    described = one.describe(params.roll_delta)
    if isinstance(plan, CannotRoll):
        return skip(f"roll condor #{structure.id}", f"{described} but {plan.reason}")
    if isinstance(plan, CloseInstead):
        return _close(structure, close_debit, f"{described}; {plan.reason}")
    return Decision(intents=(plan,))


def _close(structure: Structure, close_debit: float, reason: str) -> Decision:
    intent = Intent(
        kind=IntentKind.CLOSE,
        engine=structure.engine,
        structure_kind=structure.kind,
        legs=tuple(leg.reversed() for leg in structure.legs),
        quantity=structure.quantity,
        limit_price=close_debit,
        reason=f"close condor #{structure.id}: {reason}",
        structure_id=structure.id,
    )
    return Decision(intents=(intent,))
