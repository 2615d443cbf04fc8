"""Expiry choice: the listed expiry nearest a target days-to-expiry inside a window."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date


def days_to_expiry(expiry: date, today: date) -> int:
    """Return calendar days from `today` to `expiry`."""
    return (expiry - today).days


def choose_expiry(
    expiries: Iterable[date], today: date, target: int, lowest: int, highest: int
) -> date | None:
    """Return the expiry nearest `target` DTE within [lowest, highest], the earlier on a tie."""
    inside = [e for e in expiries if lowest <= days_to_expiry(e, today) <= highest]
    if not inside:
        return None
    return min(inside, key=lambda e: (abs(days_to_expiry(e, today) - target), e))
