"""The simulator's bid/ask model around a theoretical price, on the product's tick grid."""

from __future__ import annotations

import math

SPX_TICK_BELOW_3 = 0.05
SPX_TICK_ABOVE_3 = 0.10


def option_tick(price: float) -> float:
    """Return the SPX option tick for a price: 0.05 below 3.00, else 0.10."""
    return SPX_TICK_BELOW_3 if price < 3.0 else SPX_TICK_ABOVE_3


def bid_ask(theo: float, vix: float) -> tuple[float, float]:
    """Return (bid, ask) around `theo`: wider for dearer options and in higher VIX.

    Half-spread = max(one tick, 1.5% of the price x VIX/15); the bid is rounded down and the
    ask up to the tick. Below one tick of value the bid is 0 (no buyer), as on the exchange.
    """
    if not math.isfinite(theo) or theo < 0:
        return math.nan, math.nan
    tick = option_tick(theo)
    half = max(tick, 0.015 * theo * max(vix, 10.0) / 15.0)
    bid = math.floor((theo - half) / tick + 1e-9) * tick
    ask = math.ceil((theo + half) / tick - 1e-9) * tick
    bid = max(0.0, round(bid, 2))
    ask = max(round(ask, 2), tick)
    return bid, ask
