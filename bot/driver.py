"""Run the jobs: from the virtual clock in simulation, from APScheduler in live trading.

Both use the same cron triggers (bot.jobs). The virtual driver asks each trigger for its
next fire time (`get_next_fire_time`), moves the clock there and runs the due jobs; when
paced, it waits `session seconds / speed` of wall time, where only the 09:30-16:30 ET part
of trading days counts, so nights, weekends and holidays pass at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import VirtualClock
from bot.jobs import Job, JobName, NextFires, runs_now
from broker.calendar import NY, TradingCalendar

log = structlog.get_logger("alvh.driver")

SIM_DAY_START = time(9, 30)
SIM_DAY_END = time(16, 30)
RunJob = Callable[[JobName], Awaitable[None]]


def session_seconds(start: datetime, end: datetime, calendar: TradingCalendar) -> float:
    """Return the seconds of [start, end] inside 09:30-16:30 ET on trading days."""
    total = 0.0
    day = start.astimezone(NY).date()
    last = end.astimezone(NY).date()
    while day <= last:
        if calendar.is_trading_day(day):
            lo = max(start, datetime.combine(day, SIM_DAY_START, tzinfo=NY))
            hi = min(end, datetime.combine(day, SIM_DAY_END, tzinfo=NY))
            total += max(0.0, (hi - lo).total_seconds())
        day += timedelta(days=1)
    return total


class VirtualDriver:
    """Fires the jobs in virtual time; `speed` virtual session seconds per wall second."""

    def __init__(
        self,
        clock: VirtualClock,
        jobs: list[Job],
        calendar: TradingCalendar,
        run_job: RunJob,
        speed: float | None,
    ) -> None:
        self.clock = clock
        self.jobs = jobs
        self.calendar = calendar
        self.run_job = run_job
        self.speed = speed
        self._fires = NextFires(jobs)

    async def run(
        self,
        stop: asyncio.Event,
        last_day: date,
        on_job: Callable[[JobName, datetime], None] | None = None,
    ) -> str:
        """Run until `stop` is set or the next job falls after `last_day`; say why it ended."""
        while not stop.is_set():
            upcoming = self._fires.after(self.clock.now())
            if upcoming is None:
                return "no job is scheduled any more"
            fire, names = upcoming
            if fire.astimezone(NY).date() > last_day:
                return f"reached the last simulated day {last_day}"
            if self.speed and await _interrupted(stop, self._wall_delay(fire)):
                break
            self.clock.advance_to(fire)
            for name in names:
                if runs_now(name, fire, self.calendar):
                    await self.run_job(name)
                    if on_job is not None:
                        on_job(name, fire)
        return "stopped on request"

    def _wall_delay(self, fire: datetime) -> float:
        assert self.speed
        return session_seconds(self.clock.now(), fire, self.calendar) / self.speed


async def _interrupted(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds` of wall time; return True if `stop` was set meanwhile."""
    if seconds <= 0:
        return stop.is_set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


async def run_live(
    jobs: list[Job], calendar: TradingCalendar, run_job: RunJob, stop: asyncio.Event
) -> str:
    """Run the jobs on the wall clock with APScheduler's AsyncIOScheduler until `stop`."""
    scheduler = AsyncIOScheduler(timezone=NY)

    async def fire(name: JobName) -> None:
        now = datetime.now(NY)
        if runs_now(name, now, calendar):
            await run_job(name)

    for job in jobs:
        scheduler.add_job(
            fire,
            job.trigger,
            args=[job.name],
            id=job.name.value,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=120,
        )
    scheduler.start()
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
    return "stopped on request"
