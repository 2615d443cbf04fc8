"""Injected time: the real clock for live trading, a virtual one for simulation and replay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current instant, tz-aware."""

    async def sleep(self, seconds: float) -> None:
        """Let `seconds` of this clock's time pass."""


class RealClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class VirtualClock:
    """Simulated time: it moves only when told. `pace` wall seconds elapse per virtual second
    slept (0 for replay, as fast as it goes)."""

    def __init__(self, start: datetime, pace: float = 0.0) -> None:
        if start.tzinfo is None:
            raise ValueError("the virtual clock needs a tz-aware start")
        self._now = start
        self.pace = pace

    def now(self) -> datetime:
        return self._now

    def advance_to(self, instant: datetime) -> None:
        """Move time forward to `instant` (never backward)."""
        if instant > self._now:
            self._now = instant

    async def sleep(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        await asyncio.sleep(seconds * self.pace)
