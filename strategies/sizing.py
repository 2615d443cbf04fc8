"""Position sizing of defined-risk structures."""

from __future__ import annotations

import math


def units_within_risk(max_loss_per_unit: float, net_liquidation: float, max_loss_pct: float) -> int:
    """Return how many units keep the total max loss within `max_loss_pct` of net liquidation."""
    if not (max_loss_per_unit > 0 and net_liquidation > 0):
        return 0
    return max(0, math.floor(net_liquidation * max_loss_pct / max_loss_per_unit + 1e-9))
