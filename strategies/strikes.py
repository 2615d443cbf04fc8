"""Strike selection by delta over an option chain's usable quotes."""

from __future__ import annotations

from collections.abc import Iterable

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
