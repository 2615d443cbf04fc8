"""Replay history through the same engine and jobs, as fast as it goes, into its own journal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.config import AppConfig
from bot.daily_report import with_daily_logs
from bot.driver import VirtualDriver
from bot.jobs import JobName
from bot.replay_report import write_replay_report
from bot.wiring import build_sim_system
from broker.structures import Engine
from storage.journal import Journal

# Replay journals marks hourly (and at each close) instead of every cycle: marks are
# observations, and the daily log reads the day's last one.
REPLAY_MARKS_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class ReplaySummary:
    start: date
    end: date
    days: int
    cycles: int
    condors_opened: int
    condors_closed: int
    realized_pnl: float
    total_pnl: float
    start_equity: float
    end_equity: float
    max_drawdown: float
    max_drawdown_pct: float
    fills: int
    why_stopped: str
    wall_seconds: float = 0.0  # the engine's run, set-up and report excluded

    @property
    def cycles_per_second(self) -> float:
        return self.cycles / self.wall_seconds if self.wall_seconds > 0 else 0.0


def max_drawdown(curve: list[float]) -> tuple[float, float]:
    """Return the largest peak-to-trough fall of an equity curve, in dollars and as a share."""
    peak, worst, worst_pct = float("-inf"), 0.0, 0.0
    for value in curve:
        peak = max(peak, value)
        if peak - value > worst:
            worst, worst_pct = peak - value, (peak - value) / peak
    return worst, worst_pct


def fresh_database(path: Path) -> str:
    """Delete a previous replay database at `path` and return its SQLAlchemy URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


async def replay(
    config: AppConfig,
    start: date,
    end: date,
    db_path: Path,
    on_day: Callable[[date], None] | None = None,
    daily_logs: bool = False,
    report_dir: Path | None = None,
) -> ReplaySummary:
    """Run the strategy over [start, end] on the simulator; return the summary.

    With `daily_logs` each day's fill and roll log is written under `config.reports.dir`;
    without, none is (whatever `reports.enabled` says). With `report_dir` the replay report
    (summary.md and charts) is written there.
    """
    config = with_daily_logs(config, daily_logs)
    # The replay owns its journal: it lives in memory (no file write per fact) and is saved to
    # `db_path` once at the end, whole, even when the replay stops on an error.
    journal = Journal("sqlite://")
    journal.cache_open_structures = True
    system = build_sim_system(config, journal, start, pace=0.0, end=end, persist_venue=False)
    days = system.calendar.trading_days(max(start, system.history.first_day), end)

    def progress(name: JobName, fire: datetime) -> None:
        if name is JobName.DAILY_CLOSE and on_day is not None:
            on_day(fire.date())

    system.engine.marks_every = REPLAY_MARKS_EVERY
    system.engine.cache_runtime = True  # no command channel: only the engine writes it
    try:
        await system.engine.start()
        driver = VirtualDriver(
            system.clock, system.jobs, system.calendar, system.engine.run_job, speed=None
        )
        began = time.perf_counter()
        why = await driver.run(asyncio.Event(), min(end, system.history.last_day), progress)
        wall = time.perf_counter() - began
        await system.engine.stop()
        if report_dir is not None:
            history = system.history
            closes = {d: history.bar(d).close for d in history.days() if d <= end}
            write_replay_report(
                journal,
                closes,
                report_dir,
                config.strategy,
                start,
                end,
                start_equity=config.sim.starting_cash,
            )
        summary = _summarize(journal, config, start, end, len(days), system.engine.cycles, why)
        return replace(summary, wall_seconds=wall)
    finally:
        fresh_database(db_path)
        journal.save_copy(db_path)
        journal.dispose()


def _summarize(
    journal: Journal, config: AppConfig, start: date, end: date, days: int, cycles: int, why: str
) -> ReplaySummary:
    curve = [nlv for _, nlv in journal.equity_curve()]
    start_equity = config.sim.starting_cash
    end_equity = curve[-1] if curve else start_equity
    dd, dd_pct = max_drawdown([start_equity, *curve])
    closed = journal.closed_structures()
    condors_closed = sum(1 for s in closed if s[0].engine is Engine.CONDOR)
    condors_open = sum(1 for s in journal.open_structures() if s.engine is Engine.CONDOR)
    return ReplaySummary(
        start=start,
        end=end,
        days=days,
        cycles=cycles,
        condors_opened=condors_closed + condors_open,
        condors_closed=condors_closed,
        realized_pnl=journal.realized_pnl(),
        total_pnl=end_equity - start_equity,
        start_equity=start_equity,
        end_equity=end_equity,
        max_drawdown=dd,
        max_drawdown_pct=dd_pct,
        fills=journal.fill_count(),
        why_stopped=why,
    )
