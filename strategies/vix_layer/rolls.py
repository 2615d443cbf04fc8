"""The rolls job (10:15 ET): rungs out of their roll window, calls out of their last month.

- A rung (FUTURES_RUNG) whose future has rung_roll_days trading days or fewer to expiry is
  rolled, in one combo (sell the old future, buy the new), into the ladder month that holds
  the fewest contracts (the nearest on a tie), so the ladder stays spread over its months.
- A call block, an add-on or a backspread at or below call_roll_dte calendar days is rolled to
  a fresh one chosen as the rebalance would choose it (the backspread at the effective ratio):
  sell the old calls, buy the new, in one combo; the new structure keeps its kind.
- Rolls keep the hedge rather than grow it, but a roll is where the layer pays its carry (a
  rung's contango, a block's time value). So when the layer's net cost over the rolling year
  has used up the hedge budget, a structure due for its roll is closed instead: the budget
  caps what the layer costs, not only what it buys. A roll that cannot be priced (no usable
  quote for the old or the new contract) is skipped and retried next cycle. Quantities are
  capped per order; the rest rolls next cycle.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, datetime

from broker.market import MarketSnapshot
from broker.orders import Leg, Side
from broker.structures import Structure, StructureKind
from strategies.decision import Decision, PortfolioState, skip
from strategies.expiry import days_to_expiry
from strategies.hedge_rules import budget_left, budget_limit
from strategies.params import StrategyParams
from strategies.vix_layer.backspread import choose_backspread
from strategies.vix_layer.call_block import choose_block_call
from strategies.vix_layer.context import HedgeContext, hedge_context
from strategies.vix_layer.ladder import rung_expiry
from strategies.vix_layer.orders import cap_note, close_intent, order_cap, roll_intent
from strategies.vix_layer.selection import block_legs, ladder_futures, trading_days_to

CALL_KINDS = (StructureKind.CALL_BLOCK, StructureKind.ADDON_CALLS, StructureKind.BACKSPREAD)


def decide_vix_rolls(
    snapshot: MarketSnapshot, state: PortfolioState, params: StrategyParams, now: datetime
) -> Decision:
    """Return the rolls due today in the VIX layer."""
    ctx = hedge_context(snapshot, state, params, now)
    return _roll_rungs(ctx) + _roll_calls(ctx)


def _roll_rungs(ctx: HedgeContext) -> Decision:
    rungs = ctx.held(StructureKind.FUTURES_RUNG)
    if not rungs:
        return Decision()
    params = ctx.params.vix
    sessions = ctx.snapshot.sessions
    if not sessions:
        return skip("roll rungs", "no trading sessions in the snapshot: cannot count days")
    days = {s.id: trading_days_to(rung_expiry(s), ctx.today, sessions) or 0 for s in rungs}
    due = [s for s in rungs if days[s.id] <= params.rung_roll_days]
    due_ids = {s.id for s in due}
    if not due:
        return Decision()
    ladder = ladder_futures(ctx.snapshot, ctx.today, params)
    if isinstance(ladder, str):
        return sum((skip(f"roll rung #{s.id}", ladder) for s in due), Decision())
    held: Counter[date] = Counter()
    for structure in rungs:
        if structure.id not in due_ids:
            held[rung_expiry(structure)] += structure.quantity
    decision = Decision()
    limit = ctx.params.risk.max_contracts_per_order
    for rung in due:
        month, future = min(ladder.items(), key=lambda mf: (held[mf[1].contract.expiry], mf[0]))
        new_legs = tuple(Leg(future.contract, Side.BUY, leg.ratio) for leg in rung.legs[:1])
        units = order_cap(rung.quantity, new_legs, limit)
        old = rung.legs[0].contract.key
        reason = (
            f"roll rung #{rung.id}: {old} is {days[rung.id]} trading days from expiry (roll at "
            f"{params.rung_roll_days}): {units} x into {future.contract.key}, ladder month "
            f"{month} with {held[future.contract.expiry]} held (the fewest)"
            f"{cap_note(rung.quantity, units, limit)}"
        )
        decision = decision + _roll_or_close(rung, new_legs, units, ctx, reason)
        held[future.contract.expiry] += units
    return decision


def _roll_calls(ctx: HedgeContext) -> Decision:
    params = ctx.params.vix
    decision = Decision()
    for structure in ctx.held(*CALL_KINDS):
        expiry = min(leg.contract.expiry for leg in structure.legs)
        dte = days_to_expiry(expiry, ctx.today)
        if dte > params.call_roll_dte:
            continue
        action = f"roll {structure.kind.value} #{structure.id}"
        fresh = _fresh_legs(ctx, structure)
        if isinstance(fresh, str):
            decision = decision + skip(action, f"{fresh} (retry next cycle)")
            continue
        new_legs, described = fresh
        limit = ctx.params.risk.max_contracts_per_order
        units = order_cap(structure.quantity, new_legs, limit)
        reason = (
            f"{action}: VIX {expiry} at {dte} DTE (roll at {params.call_roll_dte}): "
            f"{units} x into {described}{cap_note(structure.quantity, units, limit)}"
        )
        decision = decision + _roll_or_close(structure, new_legs, units, ctx, reason)
    return decision


def _fresh_legs(ctx: HedgeContext, structure: Structure) -> tuple[tuple[Leg, ...], str] | str:
    if structure.kind is StructureKind.BACKSPREAD:
        spread = choose_backspread(ctx)
        return spread if isinstance(spread, str) else (spread.legs, spread.describe())
    block = choose_block_call(ctx)
    if isinstance(block, str):
        return block
    return block_legs(block), block.describe(ctx.params.vix)


def _roll_or_close(
    structure: Structure, new_legs: tuple[Leg, ...], units: int, ctx: HedgeContext, reason: str
) -> Decision:
    """Roll, or close instead when the hedge budget of the rolling year is spent."""
    hedge = ctx.state.hedge
    nlv = ctx.state.account.net_liquidation
    left = budget_left(nlv, hedge.layer_cost_year, ctx.params.hedge)
    if left > 0:
        return _roll(structure, new_legs, units, ctx, reason)
    why = (
        f"close {structure.kind.value} #{structure.id} instead of rolling it: the layer cost "
        f"${hedge.layer_cost_year:,.0f} over the last year, the budget is "
        f"${budget_limit(nlv, ctx.params.hedge):,.0f} ({ctx.params.hedge.budget_pct:.1%} of net "
        "liquidation)"
    )
    intent = close_intent(structure, structure.quantity, ctx.quotes, why)
    if isinstance(intent, str):
        return skip(f"close {structure.kind.value} #{structure.id}", intent)
    return Decision(intents=(intent,))


def _roll(
    structure: Structure, new_legs: tuple[Leg, ...], units: int, ctx: HedgeContext, reason: str
) -> Decision:
    intent = roll_intent(structure, new_legs, units, ctx.quotes, reason)
    if isinstance(intent, str):
        return skip(f"roll {structure.kind.value} #{structure.id}", f"cannot price: {intent}")
    priced = f"{reason}; net {intent.limit_price:+.2f} per unit at mid"
    return Decision(intents=(replace(intent, reason=priced),))
