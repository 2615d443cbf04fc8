"""The schedule: named jobs with cron triggers from the config, shared by live and simulation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.config import ScheduleConfig
from broker.calendar import TradingCalendar


class JobName(StrEnum):
    RECONCILE = "reconcile"
    SIGNALS = "signals"  # the day's signals from daily bars (no trading)
    CONDOR_ENTRY = "condor_entry"
    ROLLS = "rolls"  # the VIX layer's rolls: rungs near expiry, call blocks at their roll DTE
    HEDGE = "hedge"  # the VIX layer's rebalance: k, the ratio, the scenario-sized targets
    MANAGE = "manage"
    DAILY_CLOSE = "daily_close"


# Jobs that trade only while the options session is open (early closes honoured).
NEEDS_OPEN_MARKET = frozenset({JobName.CONDOR_ENTRY, JobName.ROLLS, JobName.HEDGE, JobName.MANAGE})


@dataclass(frozen=True)
class Job:
    name: JobName
    trigger: BaseTrigger


def build_jobs(schedule: ScheduleConfig) -> list[Job]:
    """Return the scheduled jobs, one trigger each (several crontabs are OR-ed)."""
    jobs = []
    for name in JobName:
        crontabs = getattr(schedule, name.value)
        triggers = [CronTrigger.from_crontab(c, timezone=schedule.timezone) for c in crontabs]
        trigger: BaseTrigger = triggers[0] if len(triggers) == 1 else OrTrigger(triggers)
        jobs.append(Job(name, trigger))
    return jobs


def next_fire(jobs: list[Job], after: datetime) -> tuple[datetime, list[JobName]] | None:
    """Return the earliest fire time strictly after `after` and every job due then."""
    best: datetime | None = None
    due: list[JobName] = []
    probe = after + timedelta(microseconds=1)
    for job in jobs:
        fire = job.trigger.get_next_fire_time(None, probe)
        if fire is None:
            continue
        if best is None or fire < best:
            best, due = fire, [job.name]
        elif fire == best:
            due.append(job.name)
    return (best, due) if best is not None else None


class NextFires:
    """`next_fire` with each trigger's next fire time kept until it has passed.

    A trigger's next fire after `now` stays the same while `now` has not reached it, so only the
    triggers that fired (or were skipped past) are asked again: cron arithmetic is the driver's
    largest cost once the engine is fast. A job of several crontabs (an OrTrigger without
    jitter fires at the earliest of its triggers) is kept per crontab: the 15-minute cron of
    `manage` is asked again each quarter hour, its 09:45 cron once a day.
    """

    def __init__(self, jobs: list[Job]) -> None:
        self._triggers = [(job.name, t) for job in jobs for t in _parts(job.trigger)]
        self._next: list[datetime | None] = [None] * len(self._triggers)
        self._asked = [False] * len(self._triggers)

    def after(self, now: datetime) -> tuple[datetime, list[JobName]] | None:
        """Return the earliest fire time strictly after `now` and every job due then."""
        probe = now + timedelta(microseconds=1)
        best: datetime | None = None
        due: list[JobName] = []
        for i, (name, trigger) in enumerate(self._triggers):
            fire = self._next[i]
            if not self._asked[i] or (fire is not None and fire <= now):
                fire = trigger.get_next_fire_time(None, probe)
                self._next[i], self._asked[i] = fire, True
            if fire is None:
                continue
            if best is None or fire < best:
                best, due = fire, [name]
            elif fire == best and name not in due:
                due.append(name)
        return (best, due) if best is not None else None


def _parts(trigger: BaseTrigger) -> list[BaseTrigger]:
    """Return the triggers whose earliest fire is `trigger`'s (itself unless an OrTrigger)."""
    if isinstance(trigger, OrTrigger) and trigger.jitter is None:
        return [part for t in trigger.triggers for part in _parts(t)]
    return [trigger]


def runs_now(name: JobName, when: datetime, calendar: TradingCalendar) -> bool:
    """Return True when the job should run at `when`: a trading day, in session if it trades."""
    session = calendar.session(when.date())
    if session is None:
        return False
    if name in NEEDS_OPEN_MARKET:
        return session.open <= when <= session.close
    return True
