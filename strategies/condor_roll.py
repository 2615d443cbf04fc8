"""Rolling the tested side of an iron condor (DESIGN.md section 2, "Front engine").

A side is *tested* when its short strike's |delta| reaches `roll_delta` (0.30). The roll is one
combo: buy back the tested vertical and sell a new vertical of the same right in the same
expiry, its short at the |delta| nearest `short_delta` and its wing at the |delta| nearest
`wing_delta` beyond it, chosen exactly like the entry's strikes (`strategies.strikes`). The
untested vertical is kept; the new condor is the kept vertical plus the new one.

Modeling choices:
- Same expiry only: "further out and away" is read as further out of the money. Moving out in
  time is a new condor by the entry rules after a close.
- The new short must be strictly further out than the tested one (lower for puts, higher for
  calls); a roll to the same or a nearer strike is no defence, so the condor is closed instead.
- The roll is sent only for a net credit at mid (the combo's net mid < 0). A roll that costs a
  debit, or nothing, closes the condor instead: paying to move a losing side is how a defended
  condor turns into an undefined loss.
- The rolled condor must still fit the entry's sizing rule: its max loss per unit (the wider
  vertical's width minus its credit at mid, kept vertical at its mid) times the quantity stays
  within `max_loss_pct` of net liquidation; a wider new vertical that breaks it closes instead.
- The combo's legs are netted per contract: a strike that the closing and the opening vertical
  share (the old wing reused) is traded once or not at all, never bought and sold in one order.
- Bad data (no chain for the expiry, no usable quote near the target deltas) never becomes an
  order: the roll is skipped and retried next cycle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from broker.contracts import OptionContract, Right
from broker.market import LegQuote, OptionChain, OptionQuote
from broker.orders import Leg, Side
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies.params import CondorParams
from strategies.pricing_of_legs import net_mid
from strategies.strikes import nearest_delta, pick_wing, wing_rule

# Deltas and net prices are sums and products of floats: a boundary hit must count.
TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class ShortTested:
    """A short option leg whose |delta| reached the roll delta."""

    leg: Leg
    contract: OptionContract
    delta: float

    def describe(self, roll_delta: float) -> str:
        return (
            f"short {_name(self.contract.right)} {self.contract.strike:g} at delta "
            f"{self.delta:+.2f} reached {roll_delta:.2f}"
        )


@dataclass(frozen=True, slots=True)
class CloseInstead:
    """The roll is not worth sending: close the whole condor, for this reason."""

    reason: str


@dataclass(frozen=True, slots=True)
class CannotRoll:
    """The roll cannot be built from this cycle's data: skip it and retry next cycle."""

    reason: str


RollPlan = Intent | CloseInstead | CannotRoll


def tested_shorts(
    structure: Structure, leg_quotes: Mapping[str, LegQuote], roll_delta: float
) -> tuple[ShortTested, ...]:
    """Return the structure's short options whose quoted |delta| is at or past `roll_delta`.

    A leg without a quote or with a NaN delta is not reported: nothing is known about it.
    """
    tested = []
    for leg in structure.legs:
        contract = leg.contract
        quote = leg_quotes.get(contract.key)
        if leg.side is not Side.SELL or not isinstance(contract, OptionContract) or quote is None:
            continue
        delta = quote.greeks.delta
        if math.isfinite(delta) and abs(delta) >= roll_delta - TOLERANCE:
            tested.append(ShortTested(leg, contract, delta))
    return tuple(tested)


def is_managed_condor(structure: Structure) -> bool:
    """Return True for the front engine's iron condors (the structures the roll rule covers)."""
    return structure.engine is Engine.CONDOR and structure.kind is StructureKind.IRON_CONDOR


def expiries_to_roll(
    structures: Iterable[Structure], leg_quotes: Mapping[str, LegQuote], params: CondorParams
) -> set[date]:
    """Return the expiries whose chain the bot must quote now: condors with a tested short."""
    return {
        tested.contract.expiry
        for structure in structures
        if is_managed_condor(structure)
        for tested in tested_shorts(structure, leg_quotes, params.roll_delta)
    }


def plan_roll(
    structure: Structure,
    tested: ShortTested,
    chain: OptionChain | None,
    leg_quotes: Mapping[str, LegQuote],
    params: CondorParams,
    net_liquidation: float,
) -> RollPlan:
    """Return the ROLL intent of the tested side, or why the condor closes or the roll waits.

    The held legs must have usable quotes in `leg_quotes` (check `leg_problems` first).
    """
    right, expiry = tested.contract.right, tested.contract.expiry
    side = _name(right)
    rolled = [leg for leg in structure.legs if _right_of(leg) is right]
    long_legs = [leg for leg in rolled if leg.side is Side.BUY]
    if len(rolled) != 2 or len(long_legs) != 1:
        return CannotRoll(f"the {side} side is not one short and one long leg: cannot roll it")
    if chain is None or not chain.quotes:
        return CannotRoll(f"no option chain for {expiry} to roll it (retry next cycle)")
    candidates = chain.side(right)
    new_short = nearest_delta(candidates, params.short_delta)
    if new_short is None:
        return CannotRoll(
            f"no usable {side} quotes near |delta| {params.short_delta} in the {expiry} chain "
            "(retry next cycle)"
        )
    old_strike, new_strike = tested.contract.strike, new_short.contract.strike
    if not _further_out(right, new_strike, old_strike):
        direction = "below" if right is Right.PUT else "above"
        return CloseInstead(
            f"the new short {side} {new_strike:g} (delta {new_short.greeks.delta:+.2f}) is not "
            f"{direction} the tested {old_strike:g}: closing instead"
        )
    beyond = (q for q in candidates if _further_out(right, q.contract.strike, new_strike))
    new_wing = pick_wing(beyond, new_short, params.wing_delta, params.wing_width)
    if new_wing is None:
        return CannotRoll(
            f"no usable {side} wing near {wing_rule(params.wing_delta, params.wing_width)} "
            f"beyond {new_strike:g} "
            f"in the {expiry} chain (retry next cycle)"
        )
    return _roll_intent(
        structure, tested, (rolled, new_short, new_wing), chain, leg_quotes, params, net_liquidation
    )


def _roll_intent(
    structure: Structure,
    tested: ShortTested,
    picked: tuple[list[Leg], OptionQuote, OptionQuote],
    chain: OptionChain,
    leg_quotes: Mapping[str, LegQuote],
    params: CondorParams,
    net_liquidation: float,
) -> RollPlan:
    rolled, new_short, new_wing = picked
    right = tested.contract.right
    quotes: dict[str, LegQuote] = {q.contract.key: q for q in chain.quotes}
    quotes.update(leg_quotes)
    opening = (Leg(new_short.contract, Side.SELL), Leg(new_wing.contract, Side.BUY))
    combo = net_legs([*(leg.reversed() for leg in rolled), *opening])
    net = net_mid(combo, quotes)
    new_vertical = f"{_name(right)}s {_strikes(opening)}"
    if net >= -TOLERANCE:
        cost = f"cost a {net:.2f} debit" if net > TOLERANCE else "collect no credit (0.00)"
        return CloseInstead(f"roll would {cost}: closing instead (new {new_vertical})")
    kept = tuple(leg for leg in structure.legs if leg not in rolled)
    result = _condor_order((*kept, *opening))
    max_loss = _max_loss_per_unit(result, quotes, structure.multiplier)
    if max_loss is None:
        return CannotRoll(
            f"the rolled condor's credit is not below its width: the chain's prices are wrong "
            f"(new {new_vertical}; retry next cycle)"
        )
    total = max_loss * structure.quantity
    if total > params.max_loss_pct * net_liquidation + TOLERANCE:
        return CloseInstead(
            f"the rolled condor ({new_vertical}) would risk ${total:,.0f}, more than "
            f"{params.max_loss_pct:.1%} of net liquidation ${net_liquidation:,.0f}: closing instead"
        )
    reason = (
        f"roll condor #{structure.id}: {tested.describe(params.roll_delta)}; "
        f"close {_name(right)}s {_strikes(rolled)}, open {new_vertical} "
        f"(short delta {new_short.greeks.delta:+.2f}) for a {-net:.2f} credit at mid; "
        f"max loss ${total:,.0f}"
    )
    return Intent(
        kind=IntentKind.ROLL,
        engine=structure.engine,
        structure_kind=structure.kind,
        legs=combo,
        quantity=structure.quantity,
        limit_price=net,
        reason=reason,
        structure_id=structure.id,
        result_legs=result,
        carry_price=net_mid(kept, quotes),
    )


def net_legs(legs: Iterable[Leg]) -> tuple[Leg, ...]:
    """Merge legs of the same contract (in first-seen order); drop those that cancel out."""
    counts: dict[str, int] = {}
    contracts = {}
    for leg in legs:
        key = leg.contract.key
        counts[key] = counts.get(key, 0) + leg.signed_ratio
        contracts[key] = leg.contract
    return tuple(
        Leg(contracts[key], Side.BUY if count > 0 else Side.SELL, abs(count))
        for key, count in counts.items()
        if count != 0
    )


def _max_loss_per_unit(
    legs: tuple[Leg, ...], quotes: Mapping[str, LegQuote], multiplier: int
) -> float | None:
    """Return (widest vertical - credit at mid) x multiplier, or None when it is not positive."""
    widths = []
    for right in (Right.PUT, Right.CALL):
        strikes = [_strike_of(leg) for leg in legs if _right_of(leg) is right]
        widths.append(max(strikes) - min(strikes) if strikes else 0.0)
    per_unit = max(widths) + net_mid(legs, quotes)  # net mid of a credit condor is negative
    return per_unit * multiplier if per_unit > 0 else None


def _condor_order(legs: Iterable[Leg]) -> tuple[Leg, ...]:
    """Return legs as a condor lists them: short put, long put, short call, long call."""
    rank: dict[tuple[Right | None, Side], int] = {
        (Right.PUT, Side.SELL): 0,
        (Right.PUT, Side.BUY): 1,
        (Right.CALL, Side.SELL): 2,
        (Right.CALL, Side.BUY): 3,
    }
    return tuple(sorted(legs, key=lambda leg: rank.get((_right_of(leg), leg.side), 4)))


def _further_out(right: Right, strike: float, than: float) -> bool:
    return strike < than if right is Right.PUT else strike > than


def _right_of(leg: Leg) -> Right | None:
    contract = leg.contract
    return contract.right if isinstance(contract, OptionContract) else None


def _strikes(legs: Iterable[Leg]) -> str:
    return "/".join(f"{s:g}" for s in sorted(_strike_of(leg) for leg in legs))


def _strike_of(leg: Leg) -> float:
    contract = leg.contract
    return contract.strike if isinstance(contract, OptionContract) else math.nan


def _name(right: Right) -> str:
    return "put" if right is Right.PUT else "call"
