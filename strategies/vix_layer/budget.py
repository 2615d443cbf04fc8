"""The hedge budget: new opening debits are cut so the layer's yearly cost stays in budget.

Rule (DESIGN.md section 2, "Hedge budget"): layer_cost_year + new debits <= budget_pct x net
liquidation. Opens are taken in priority order (the backspread first: its credit adds to
what is left, then the ladder, the call block, the add-on); each debit open is cut to the
units the budget left pays for and skipped with the reason when none fits. A VIX future costs
no premium (0 USD here): its cost arrives as mark-to-market and roll losses, which the bot
counts in layer_cost_year; but once nothing is left (budget <= 0) no part grows, futures
included. Closes and rolls are not gated: they reduce or keep the hedge, never grow it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from strategies.decision import Decision, skip
from strategies.vix_layer.plan import ProposedOpen


def fit_budget(opens: Iterable[ProposedOpen], left: float, budget_text: str) -> Decision:
    """Return the opens the budget pays for (some cut), and skips for those it cannot."""
    decision = Decision()
    for proposed in opens:
        intent, cost = proposed.intent, proposed.unit_cost
        if not math.isfinite(cost):
            decision = decision + skip(proposed.action, "its premium is not a number")
            continue
        units = intent.quantity
        if left <= 0:
            units = 0
        elif cost > 0:
            units = min(units, math.floor(left / cost + 1e-9))
        if units <= 0:
            decision = decision + skip(
                proposed.action,
                f"hedge budget: {intent.quantity} units at ${cost:,.0f} each do not fit, "
                f"${left:,.0f} left ({budget_text})",
            )
            continue
        reason = intent.reason
        if units < intent.quantity:
            reason += (
                f"; cut from {intent.quantity} to {units} units by the hedge budget "
                f"(${left:,.0f} left, ${cost:,.0f} per unit; {budget_text})"
            )
        left -= units * cost
        decision = decision + Decision(intents=(replace(intent, quantity=units, reason=reason),))
    return decision
