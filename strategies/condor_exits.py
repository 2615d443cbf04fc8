"""Iron condor exits: take profit at a share of the credit, close at the exit DTE."""

from __future__ import annotations

from datetime import datetime

from broker.market import MarketSnapshot
from broker.structures import Engine, Intent, IntentKind, Structure
from strategies.decision import Decision, PortfolioState, skip
from strategies.expiry import days_to_expiry
from strategies.params import CondorParams
from strategies.pricing_of_legs import leg_problems, net_mid

# Sums of leg prices carry float noise (7.500000000000001); a boundary hit must count.
PRICE_TOLERANCE = 1e-9


def manage_condors(
    snapshot: MarketSnapshot, state: PortfolioState, params: CondorParams, now: datetime
) -> Decision:
    """Return close intents for condors that reached an exit rule."""
    decision = Decision()
    for structure in state.open_of(Engine.CONDOR):
        decision = decision + _manage_one(structure, snapshot, params, now)
    return decision


def _manage_one(
    structure: Structure, snapshot: MarketSnapshot, params: CondorParams, now: datetime
) -> Decision:
    action = f"manage condor #{structure.id}"
    expiry = min(leg.contract.expiry for leg in structure.legs)
    dte = days_to_expiry(expiry, now.date())
    problems = leg_problems(structure.legs, snapshot.leg_quotes)
    if problems:
        return skip(action, "; ".join(problems) + " (retry next cycle)")
    closing_legs = tuple(leg.reversed() for leg in structure.legs)
    close_debit = net_mid(closing_legs, snapshot.leg_quotes)
    credit = structure.entry_credit
    if dte <= params.exit_dte:
        reason = f"{dte} DTE reached the exit at {params.exit_dte} DTE"
    elif credit > 0 and close_debit <= credit * (1 - params.take_profit_pct) + PRICE_TOLERANCE:
        captured = (credit - close_debit) / credit
        reason = (
            f"take profit: buy back for {close_debit:.2f} against a {credit:.2f} credit, "
            f"{captured:.0%} captured (target {params.take_profit_pct:.0%})"
        )
    else:
        return Decision()
    intent = Intent(
        kind=IntentKind.CLOSE,
        engine=structure.engine,
        structure_kind=structure.kind,
        legs=closing_legs,
        quantity=structure.quantity,
        limit_price=close_debit,
        reason=f"close condor #{structure.id}: {reason}",
        structure_id=structure.id,
    )
    return Decision(intents=(intent,))
