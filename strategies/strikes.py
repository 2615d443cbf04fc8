"""Strike selection by delta over an option chain's usable quotes."""

from __future__ import annotations

from collections.abc import Iterable

from broker.contracts import Right
from broker.market import OptionQuote


def nearest_delta(quotes: Iterable[OptionQuote], target: float) -> OptionQuote | None:
    """Return the usable quote whose |delta| is nearest `target`; the further OTM on a tie."""
    usable = [q for q in quotes if q.problem() is None]
    if not usable:
        return None
    # Distances are rounded so that a tie in decimals (0.04 vs 0.06 around 0.05) is a tie.
    return min(
        usable,
        key=lambda q: (round(abs(abs(q.greeks.delta) - target), 9), abs(q.greeks.delta)),
    )


def pick_wing(
    beyond: Iterable[OptionQuote], short: OptionQuote, wing_delta: float, wing_width: float
) -> OptionQuote | None:
    """Return the long wing among the usable quotes `beyond` the short strike.

    With `wing_width` 0 the wing is at the |delta| nearest `wing_delta`; with a width (points)
    it is at the listed strike nearest `wing_width` beyond the short (the wider on a tie).
    """
    if wing_width <= 0:
        return nearest_delta(beyond, wing_delta)
    usable = [q for q in beyond if q.problem() is None]
    if not usable:
        return None
    strike = short.contract.strike
    target = strike - wing_width if short.contract.right is Right.PUT else strike + wing_width
    return min(
        usable,
        key=lambda q: (round(abs(q.contract.strike - target), 9), -abs(q.contract.strike - strike)),
    )


def wing_rule(wing_delta: float, wing_width: float) -> str:
    """Describe how wings are chosen, for skip reasons."""
    return f"{wing_width:g} points" if wing_width > 0 else f"|delta| {wing_delta}"
