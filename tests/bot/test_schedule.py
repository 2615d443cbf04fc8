"""The schedule: the same cron triggers drive simulated and live runs, on trading days only."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import VirtualClock
from bot.config import ScheduleConfig
from bot.driver import VirtualDriver, run_live, session_seconds
from bot.jobs import Job, JobName, NextFires, build_jobs, next_fire
from broker.calendar import NY, Session, default_calendar


async def fired_jobs(start: datetime, last_day: date) -> list[tuple[JobName, datetime]]:
    clock = VirtualClock(start)
    fired: list[tuple[JobName, datetime]] = []

    async def run_job(name: JobName) -> None:
        fired.append((name, clock.now()))

    driver = VirtualDriver(clock, build_jobs(ScheduleConfig()), default_calendar(), run_job, None)
    await driver.run(asyncio.Event(), last_day)
    return fired


async def test_a_week_fires_entry_on_monday_and_management_every_15_minutes() -> None:
    fired = await fired_jobs(datetime(2018, 3, 4, 12, 0, tzinfo=NY), date(2018, 3, 9))
    entries = [t for name, t in fired if name is JobName.CONDOR_ENTRY]
    assert entries == [datetime(2018, 3, 5, 10, 0, tzinfo=NY)]
    monday = [t.time() for name, t in fired if name is JobName.MANAGE and t.day == 5]
    assert monday[0] == time(9, 45) and monday[-1] == time(15, 45) and len(monday) == 25
    closes = [t.date() for name, t in fired if name is JobName.DAILY_CLOSE]
    assert closes == [date(2018, 3, d) for d in (5, 6, 7, 8, 9)]
    assert all(t.weekday() < 5 for _, t in fired)  # nothing on the Sunday


async def test_holidays_fire_nothing_and_early_closes_stop_trading_jobs() -> None:
    fired = await fired_jobs(datetime(2018, 11, 21, 17, 0, tzinfo=NY), date(2018, 11, 23))
    assert not [t for _, t in fired if t.date() == date(2018, 11, 22)]  # Thanksgiving
    friday = [t for name, t in fired if name is JobName.MANAGE and t.date() == date(2018, 11, 23)]
    assert friday and max(friday).time() <= time(13, 15)  # the 13:15 early close
    assert (JobName.DAILY_CLOSE, datetime(2018, 11, 23, 16, 20, tzinfo=NY)) in fired


def test_paced_time_counts_only_the_session_window() -> None:
    calendar = default_calendar()
    friday_close = datetime(2018, 3, 9, 16, 30, tzinfo=NY)
    monday_open = datetime(2018, 3, 12, 9, 30, tzinfo=NY)
    assert session_seconds(friday_close, monday_open, calendar) == 0
    day = session_seconds(
        datetime(2018, 3, 12, 9, 0, tzinfo=NY), datetime(2018, 3, 12, 18, 0, tzinfo=NY), calendar
    )
    assert day == 7 * 3600  # 2520x speed -> 10 s of wall time per trading day


class AlwaysOpen:
    """A calendar whose session spans the present moment (the live runner reads wall time)."""

    def session(self, day: date) -> Session:
        now = datetime.now(NY)
        return Session(day, now - timedelta(hours=1), now + timedelta(hours=1))


async def test_live_runner_fires_jobs_with_apscheduler_and_stops_on_request() -> None:
    stop = asyncio.Event()
    fired: list[JobName] = []

    async def run_job(name: JobName) -> None:
        fired.append(name)
        if len(fired) >= 2:
            stop.set()

    jobs = [Job(JobName.MANAGE, IntervalTrigger(seconds=0.2, timezone=NY))]
    why = await asyncio.wait_for(run_live(jobs, AlwaysOpen(), run_job, stop), timeout=10)  # type: ignore[arg-type]
    assert why == "stopped on request"
    assert fired[:2] == [JobName.MANAGE, JobName.MANAGE]


def test_next_fires_keeps_each_jobs_fire_until_it_passes_and_matches_next_fire() -> None:
    jobs = build_jobs(ScheduleConfig())
    fires = NextFires(jobs)
    now = datetime(2018, 3, 5, 9, 0, tzinfo=NY)
    for _ in range(200):  # a week of fires, as the driver asks for them
        expected = next_fire(jobs, now)
        assert fires.after(now) == expected
        assert expected is not None
        now = expected[0]
    later = now + timedelta(days=3)  # the clock jumped past several fires
    assert fires.after(later) == next_fire(jobs, later)


def test_a_job_whose_crontabs_coincide_is_due_once() -> None:
    schedule = ScheduleConfig(manage=["0 10 * * *", "*/30 9-11 * * *"], hedge=["0 10 * * *"])
    jobs = build_jobs(schedule)
    fires = NextFires(jobs)
    now = datetime(2018, 3, 6, 9, 45, tzinfo=NY)
    ten = datetime(2018, 3, 6, 10, 0, tzinfo=NY)
    assert fires.after(now) == next_fire(jobs, now) == (ten, [JobName.HEDGE, JobName.MANAGE])
    assert fires.after(ten) == next_fire(jobs, ten)
    half_past = datetime(2018, 3, 6, 10, 30, tzinfo=NY)
    assert fires.after(datetime(2018, 3, 6, 10, 15, tzinfo=NY)) == (half_past, [JobName.MANAGE])
