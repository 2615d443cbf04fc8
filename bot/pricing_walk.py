"""Limit prices for working an order: from mid toward the natural price on the tick grid."""

from __future__ import annotations

import math


def round_to_tick(price: float, tick: float, up: bool) -> float:
    """Round a net price to the tick grid, up or down."""
    steps = price / tick
    steps = math.ceil(steps - 1e-9) if up else math.floor(steps + 1e-9)
    return round(steps * tick, 10)


def walk_prices(mid: float, natural: float, steps: int, tick: float) -> list[float]:
    """Return the limit for each attempt: mid first, then `steps` moves ending at natural.

    Prices are net debits (credits negative). Natural is never exceeded: it is the floor.
    """
    up = natural >= mid
    prices: list[float] = []
    for i in range(steps + 1):
        raw = mid + (natural - mid) * (i / steps if steps else 0.0)
        # Round away from natural (in our favour); the last step is clamped to natural.
        price = round_to_tick(raw, tick, up=not up)
        bounded = min(price, natural) if up else max(price, natural)
        if not prices or bounded != prices[-1]:
            prices.append(bounded)
    return prices
