"""Soak benchmark: memory over a long run of engine cycles, and CPU while the daemon is idle.

Run: python bench/soak.py [--cycles 100000] [--start 1999-01-04] [--idle-seconds 30]

Measures, in one run, each contender in its own child process (so that one's memory never
counts in another's RSS, and the parent's own work never counts in a child's CPU time). The
two soak contenders run at the same time (--sequential: one after the other), so that machine
noise hits both alike; on a machine with fewer than two free cores that slows both down.

  1. Soak, the daemon's configuration: the real engine (bot.wiring.build_sim_system, the
     journal in a SQLite file, the venue's account persisted in its own file, as `alvh run`
     has them) driven by bot.driver.VirtualDriver at pace 0 (no wall-clock waits, as
     `alvh replay` runs) from --start until --cycles engine cycles (TradingEngine.run_job
     calls: reconcile, condor entry, management, daily close) or the end of the history. RSS is
     read every --sample-every cycles. Reported: RSS after the imports, after set-up, at the
     start (after a warm-up of --warmup cycles: caches, lazily built tables and SQLAlchemy's
     compiled statements fill there), at the end, its growth in %, its maximum, cycles per
     second (overall, first and last tenth of the run) and the least-squares slope of RSS over
     cycles after the warm-up in MB per 10,000 cycles with its standard error: a leak is a
     slope many standard errors above zero that keeps the same sign over the run, noise is
     a slope within a few of them. (Consecutive samples are correlated, so the standard error
     is on the optimistic side; read it as a scale, not as a test.) Beside RSS each sample
     holds SQLite's own heap (sqlite3_memory_used, through ctypes: page caches and in-memory
     databases), the blocks Python's allocators hold (sys.getallocatedblocks) and glibc's heap
     in use and free-but-mapped (mallinfo2 over every arena, through ctypes): RSS growing
     while the first two stay flat is the C allocator's high-water mark or fragmentation
     (glibc's "free" grows) or live C memory (its "in use" grows), not objects kept alive.
     It also holds the resident pages mapped from files (RssFile + RssShmem of
     /proc/self/status: shared libraries' code as it is first run, SQLite's WAL index), which
     count in RSS but were never allocated.
     Since the cost of a cycle may grow with what the run has accumulated, the seconds per
     cycle are fitted linearly over the run and integrated to project the wall time of the
     issue's 100,000 cycles. With the journal in a file the engine writes each day's fill and
     roll log in a short-lived child process (bot/day_log_child.py), as the daemon does; the
     daily close waits for it, so its run time (about 0.5-1 s of CPU a simulated day: the
     children are forked from a fork server that imported the report's code once) counts in
     the cycle rate, and its memory does not count in the soak's RSS: the row "daily-log
     children" gives their count, their CPU time and the largest peak RSS as each child
     reports them (pages shared with the server included), and the fork server's own RSS at
     the end (a separate process that does no work and does not grow).
  2. Soak, baseline: the same loop with everything in RAM: the journal in an in-memory SQLite
     database (`sqlite://`) and no venue file. It is the fastest the same engine can go (no
     file I/O), and its RSS includes the journal's own rows, so its growth is an upper bound
     for what the journal's data alone costs. The difference between the two rows is what the
     files cost in time, and shows whether growth comes from the engine's in-process state
     (both grow alike) or from the database (only the baseline grows).
  3. Idle CPU: the daemon exactly as `alvh run` starts it (bot.daemon.run_daemon: journal
     lock, heartbeat task, engine start-up reconcile, VirtualDriver with pace > 0) at
     sim.speed = 0.5 virtual session seconds per wall second, so the first scheduled job
     (reconcile at 09:31, 60 session seconds after the 09:00 start) is 120 wall seconds away
     and the 15-minute management jobs would be 30 minutes apart. Once the start-up reconcile
     is logged (and 1 s more), the parent reads the child's CPU time (user + system, all
     threads; psutil if installed, else /proc/<pid>/stat) every second for --idle-seconds
     and reports CPU seconds / wall seconds as % of one core, and the busiest 1-second slice.
     The window holds the driver's asyncio.wait_for sleep and, when it lasts 30 s or more,
     one of the 30 s journal heartbeats (asyncio.to_thread write), and no job (checked in
     the daemon's log).
  4. Idle CPU, baseline: a bare asyncio loop doing nothing (awaiting an Event), measured the
     same way: the floor any asyncio daemon pays.

Targets (from the issue): RSS under 250 MB (the maximum over the run) and growing under 5 %
from start to end; idle CPU under 1 % of a core. Each row says OK or MISSED. The logs go at
INFO to a JSON-lines file in the temporary work directory, as the daemon's do (no console).
The daily fill and roll log (config.reports) follows the config's default unless --reports /
--no-reports says otherwise; it is written inside the work directory. --tracemalloc N prints
the N source lines whose live allocations grew most between the warm-up and the end (it slows
the run down and adds its own memory, so the figures of such a run are not the benchmark's);
with --trace-frames K, the N call stacks of K frames instead (who allocated what stays alive).
--without BOUND[,BOUND] switches memory bounds off in the soak child only, to measure what
each buys on the same code: report-child (the daily log in a worker thread of the daemon, as
before), sqlite-cache (SQLite's default 2 MB page cache per connection to the journal and to
the venue's file instead of 512 KiB), venue-window (the simulated venue keeps its whole
history in memory instead of the last week).

  5. Chart memory (--charts N, default 0: skipped): the daily report's equity chart
     (bot.report_charts.equity_chart_png) rendered N times in a worker thread, as the engine
     renders it (asyncio.to_thread), on a growing synthetic curve (seeded), in two children:
     as shipped (each chart followed by release_chart_memory: a full gc.collect() and
     glibc's malloc_trim(0)) and with that release disabled. Reported: RSS after importing
     the module, after the first 10 charts, after N, the maximum, and the growth from 10 to
     N (target: under 5 MB), and the seconds per chart. The children hold far fewer objects
     than the daemon, so the collection is cheaper there than in the daemon (about 0.1 s).

Exits 0 whatever the verdicts; a contender that fails is reported as "not run".
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from tables import print_table, verdict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 2**20
DEFAULT_CYCLES = 100_000
DEFAULT_START = date(1999, 1, 4)
WARMUP_CYCLES = 1_000
SAMPLE_EVERY = 1_000
IDLE_SECONDS = 30.0
MAX_IDLE_SECONDS = 90.0  # the first scheduled job comes 120 wall seconds after the start
IDLE_SPEED = 0.5  # virtual session seconds per wall second while measuring idle CPU
IDLE_START = date(2018, 1, 2)
SETTLE_SECONDS = 1.0
READY_TIMEOUT = 120.0
TARGET_RSS_MB = 250.0
TARGET_GROWTH_PCT = 5.0
TARGET_IDLE_CPU_PCT = 1.0
SAMPLE_ROWS = 12
CHART_WARMUP = 10  # charts rendered before the growth is measured
TARGET_CHART_GROWTH_MB = 5.0
CHART_SEED = 20240601
SQLITE_DEFAULT_CACHE = -2000  # SQLite's own default page cache: 2,000 KiB per connection
WITHOUT = {  # --without: the memory bounds a soak can switch off, to measure what each buys
    "report-child": "the daily log in the daemon's process (a worker thread), not in a child",
    "sqlite-cache": "SQLite's default page cache (2 MB) per journal and venue file connection, "
    "not 512 KiB",
    "venue-window": "the simulated venue keeps its whole history in memory, not the last week",
}


# ---------------------------------------------------------------------------------------------
# Process measurements
# ---------------------------------------------------------------------------------------------


def rss_source() -> str:
    """Say where RSS figures come from on this machine."""
    try:
        import psutil  # noqa: F401
    except ImportError:
        return "/proc/<pid>/status VmRSS" if Path("/proc/self/status").exists() else "none"
    return "psutil"


def rss_mb(pid: int | None = None) -> float:
    """Return a process's resident set size in MB (2**20 bytes); NaN when it cannot be read."""
    try:
        import psutil
    except ImportError:
        status = Path(f"/proc/{pid if pid is not None else 'self'}/status")
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024  # kB
        except OSError:
            pass
        return float("nan")
    return float(psutil.Process(pid).memory_info().rss) / MB


def rss_file_mb() -> float:
    """Return this process's resident pages mapped from files (shared libraries, SQLite's
    shared-memory index) in MB, from /proc/self/status (RssFile + RssShmem); NaN elsewhere.

    RSS minus this is anonymous memory: the heaps. File pages grow as code paths are first
    run; they are not memory the process allocated.
    """
    try:
        status = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return float("nan")
    fields = {k: v for k, _, v in (line.partition(":") for line in status)}
    try:
        kb = int(fields["RssFile"].split()[0]) + int(fields["RssShmem"].split()[0])
    except (KeyError, ValueError, IndexError):
        return float("nan")
    return kb / 1024


def sqlite_heap_mb() -> float:
    """Return the memory SQLite's allocator holds in this process (sqlite3_memory_used), MB.

    Read through the library the sqlite3 module is linked to; NaN when ctypes cannot reach it.
    """
    try:
        import _sqlite3
        import ctypes

        used = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used
    except (ImportError, OSError, AttributeError):
        return float("nan")
    used.restype = ctypes.c_int64
    return float(used()) / MB


class _MallInfo2(ctypes.Structure):
    """glibc's struct mallinfo2 (glibc 2.33+): byte counts summed over every arena."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def malloc_mb() -> tuple[float, float]:
    """Return glibc's heap in use and free-but-mapped (mallinfo2, every arena), MB.

    In use: uordblks + hblkhd (chunks handed out, mmapped ones included); free: fordblks
    (free chunks the arenas keep). RSS growing with "in use" flat and "free" growing is
    fragmentation; with "in use" growing, live C memory. NaN off glibc (2.33+).
    """
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return float("nan"), float("nan")
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return (info.uordblks + info.hblkhd) / MB, info.fordblks / MB


def cpu_resolution() -> float:
    """Return the step of the kernel's CPU-time counters (a clock tick, 1/SC_CLK_TCK s)."""
    return 1.0 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Return a process's CPU time (user + system, all its threads) in seconds."""
    try:
        import psutil
    except ImportError:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return ticks / os.sysconf("SC_CLK_TCK")
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess as exc:
        raise ProcessLookupError(pid) from exc
    return float(times.user + times.system)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """The soak child's state after `cycles` engine cycles."""

    cycles: int
    rss_mb: float
    wall_s: float  # since the first cycle
    day: str  # the simulated day
    sqlite_mb: float  # SQLite's own heap (page caches, in-memory databases); NaN if unknown
    py_blocks: int  # memory blocks held by Python's allocators (sys.getallocatedblocks)
    malloc_used_mb: float = float("nan")  # glibc heap in use, all arenas + mmapped (mallinfo2)
    malloc_free_mb: float = float("nan")  # glibc heap free but still mapped (mallinfo2)
    rss_file_mb: float = float("nan")  # resident pages mapped from files (RssFile + RssShmem)


@dataclass(frozen=True)
class SoakRun:
    label: str
    rss_imports_mb: float
    rss_setup_mb: float
    cycles: int
    first_day: str
    why_stopped: str
    samples: list[Sample]
    top_growth: list[str] = field(default_factory=list)
    child_max_rss_mb: float = float("nan")  # the largest daily-log child's peak RSS
    child_cpu_s: float = 0.0  # CPU time of all daily-log children
    children: int = 0  # daily-log children run
    server_rss_mb: float = float("nan")  # the fork server's RSS at the end


@dataclass(frozen=True)
class SoakFigures:
    """What the tables show of a soak run (after the warm-up)."""

    rss_start: float
    rss_end: float
    rss_max: float
    growth_pct: float
    slope: float  # MB per 10,000 cycles
    slope_se: float
    rate: float  # cycles per second after the warm-up
    rate_first: float  # over the first tenth of the measured cycles
    rate_last: float  # over the last tenth
    projected_s: float  # wall time of DEFAULT_CYCLES cycles if s/cycle keeps its linear trend
    measured_cycles: int
    wall_s: float
    sqlite_start: float
    sqlite_end: float
    blocks_start: int
    blocks_end: int
    malloc_used_start: float
    malloc_used_end: float
    malloc_free_start: float
    malloc_free_end: float
    rss_file_start: float = float("nan")
    rss_file_end: float = float("nan")


@dataclass(frozen=True)
class ChartRun:
    """RSS of a child that rendered `charts` equity charts in a worker thread."""

    label: str
    charts: int
    rss_import_mb: float  # after importing bot.report_charts (matplotlib)
    rss_warm_mb: float  # after CHART_WARMUP charts
    rss_end_mb: float
    rss_max_mb: float
    seconds_per_chart: float

    @property
    def growth_mb(self) -> float:
        return self.rss_end_mb - self.rss_warm_mb


@dataclass(frozen=True)
class IdleRun:
    label: str
    wall_s: float
    cpu_s: float
    max_slice_pct: float
    rss_mb: float
    jobs_in_window: int | None
    note: str = ""

    @property
    def pct(self) -> float:
        return 100.0 * self.cpu_s / self.wall_s


def linear_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Return the least-squares slope of y over x and its standard error (NaN if undefined)."""
    if x.size < 3 or float(np.ptp(x)) == 0.0:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(x, y, 1)
    residuals = y - (slope * x + intercept)
    spread = float(np.sum((x - x.mean()) ** 2))
    se = float(np.sqrt(np.sum(residuals**2) / (x.size - 2) / spread))
    return float(slope), se


def rate_between(a: Sample, b: Sample) -> float:
    """Return cycles per second between two samples."""
    return (b.cycles - a.cycles) / (b.wall_s - a.wall_s) if b.wall_s > a.wall_s else float("nan")


def projected_wall(samples: list[Sample], cycles: int) -> float:
    """Return the wall time of `cycles` cycles if seconds per cycle keeps its linear trend.

    Fits s/cycle = a + b n over the intervals between samples (n: cycles at the interval's
    middle) and integrates it from 0 to `cycles`: a constant cost per cycle gives a N, a cost
    growing with what the run has accumulated adds b N^2 / 2.
    """
    pairs = [(a, b) for a, b in itertools.pairwise(samples) if b.cycles > a.cycles]
    n = np.array([(a.cycles + b.cycles) / 2 for a, b in pairs])
    per_cycle = np.array([(b.wall_s - a.wall_s) / (b.cycles - a.cycles) for a, b in pairs])
    if len(pairs) < 3:
        return float("nan")
    b, a = np.polyfit(n, per_cycle, 1)
    return float(a * cycles + b * cycles**2 / 2)


def soak_figures(run: SoakRun, warmup: int) -> SoakFigures | None:
    """Summarize the samples from the warm-up on; None when the run ended inside the warm-up."""
    measured = [s for s in run.samples if s.cycles >= warmup]
    if len(measured) < 2:
        return None
    first, last = measured[0], measured[-1]
    cycles = np.array([s.cycles for s in measured], dtype=float)
    rss = np.array([s.rss_mb for s in measured])
    slope, se = linear_fit(cycles, rss)
    tenth = max(1, (len(measured) - 1) // 10)
    return SoakFigures(
        rss_start=first.rss_mb,
        rss_end=last.rss_mb,
        rss_max=float(max(s.rss_mb for s in run.samples)),
        growth_pct=100.0 * (last.rss_mb - first.rss_mb) / first.rss_mb,
        slope=slope * 10_000,
        slope_se=se * 10_000,
        rate=rate_between(first, last),
        rate_first=rate_between(measured[0], measured[tenth]),
        rate_last=rate_between(measured[-1 - tenth], measured[-1]),
        projected_s=projected_wall(measured, DEFAULT_CYCLES),
        measured_cycles=last.cycles - first.cycles,
        wall_s=last.wall_s - first.wall_s,
        sqlite_start=first.sqlite_mb,
        sqlite_end=last.sqlite_mb,
        blocks_start=first.py_blocks,
        blocks_end=last.py_blocks,
        malloc_used_start=first.malloc_used_mb,
        malloc_used_end=last.malloc_used_mb,
        malloc_free_start=first.malloc_free_mb,
        malloc_free_end=last.malloc_free_mb,
        rss_file_start=first.rss_file_mb,
        rss_file_end=last.rss_file_mb,
    )


# ---------------------------------------------------------------------------------------------
# Child processes: the contenders
# ---------------------------------------------------------------------------------------------


def child_config(
    work: Path, start: date, journal: str, reports: bool | None, speed: float | None = None
) -> Any:
    """Return an AppConfig with every file inside `work` (bot.config.AppConfig)."""
    from bot.config import AppConfig

    url = "sqlite://" if journal == "memory" else f"sqlite:///{work / 'journal.sqlite'}"
    raw: dict[str, Any] = {
        "database": {"url": url},
        "logging": {"level": "INFO", "json_path": str(work / "alvh.jsonl")},
        "sim": {"start": start.isoformat(), "venue_path": str(work / "venue.sqlite")},
    }
    if speed is not None:
        raw["sim"]["speed"] = speed
    if "reports" in AppConfig.model_fields:  # the daily fill and roll log, when this version has it
        raw["reports"] = {"dir": str(work / "reports")}
        if reports is not None:
            raw["reports"]["enabled"] = reports
    return AppConfig.model_validate(raw)


async def soak_child(opts: argparse.Namespace) -> SoakRun:
    """Run the engine for opts.cycles cycles at pace 0, sampling RSS; return the samples."""
    from bot.driver import VirtualDriver
    from bot.jobs import JobName
    from bot.logs import setup_logging
    from bot.wiring import build_sim_system
    from broker.calendar import NY
    from broker.errors import MarketDataEnded
    from storage.journal import Journal

    rss_imports = rss_mb()
    work = Path(opts.workdir)
    config = child_config(work, opts.start, opts.journal, opts.reports)
    setup_logging(config.logging.level, config.logging.json_path, console=False)
    journal = Journal(config.database.url)
    undo_memory_bounds(opts.without, journal)
    children = count_day_log_children()
    system = build_sim_system(
        config, journal, opts.start, pace=0.0, persist_venue=opts.journal == "file"
    )
    rss_setup = rss_mb()
    label = f"soak[{opts.journal}]"
    samples: list[Sample] = []
    stop = asyncio.Event()
    snapshots: list[tracemalloc.Snapshot] = []
    t0 = time.perf_counter()

    def sample() -> None:
        now = time.perf_counter() - t0
        day = system.clock.now().astimezone(NY).date().isoformat()
        used, free = malloc_mb()
        samples.append(
            Sample(
                system.engine.cycles,
                rss_mb(),
                now,
                day,
                sqlite_heap_mb(),
                sys.getallocatedblocks(),
                used,
                free,
                rss_file_mb(),
            )
        )
        s = samples[-1]
        rate = rate_between(samples[-2], s) if len(samples) > 1 else float("nan")
        print(
            f"{label} {s.cycles:>7,} cycles  {day}  RSS {s.rss_mb:6.1f} MB  "
            f"{rate:6.1f} cycles/s  {now:7.0f} s",
            file=sys.stderr,
            flush=True,
        )

    async def run_job(name: JobName) -> None:
        await system.engine.run_job(name)
        cycles = system.engine.cycles
        if cycles % opts.sample_every == 0 or cycles == opts.warmup:
            sample()
        if opts.tracemalloc and cycles == opts.warmup:
            tracemalloc.start(opts.trace_frames)
            snapshots.append(tracemalloc.take_snapshot())
        if cycles >= opts.cycles:
            stop.set()

    first_day = system.clock.now().astimezone(NY).date().isoformat()
    try:
        await system.engine.start()
        sample()
        driver = VirtualDriver(system.clock, system.jobs, system.calendar, run_job, speed=None)
        why = await driver.run(stop, system.history.last_day)
    except MarketDataEnded as exc:
        why = str(exc)
    finally:
        if samples and samples[-1].cycles != system.engine.cycles:
            sample()
        top = _top_growth(snapshots, opts.tracemalloc, opts.trace_frames)
        # the children name the server they came from (None: no child ran)
        server_rss = rss_mb(children.server_pid) if children.server_pid else float("nan")
        await system.engine.stop()
        journal.dispose()
    return SoakRun(
        label,
        rss_imports,
        rss_setup,
        system.engine.cycles,
        first_day,
        why,
        samples,
        top,
        children.peak_rss_mb,
        children.cpu_seconds,
        children.count,
        server_rss,
    )


@dataclass
class ChildCosts:
    """What the daily-log children reported they cost (numbers only: keeping each answer
    would itself grow the soak's memory)."""

    count: int = 0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    server_pid: int | None = None  # the fork server the last child came from


def count_day_log_children() -> ChildCosts:
    """Sum what each daily-log child reports it cost (its CPU time and peak RSS): the
    children come from a fork server, so getrusage(RUSAGE_CHILDREN) does not see them."""
    import bot.day_log_child as day_log_child

    costs = ChildCosts()
    run_child = day_log_child.run_child

    async def counted(*args: Any, **kwargs: Any) -> Any:
        outcome = await run_child(*args, **kwargs)
        if isinstance(outcome, day_log_child.ChildReport):
            costs.count += 1
            costs.cpu_seconds += outcome.cpu_seconds
            costs.peak_rss_mb = max(costs.peak_rss_mb, outcome.peak_rss_mb)
            costs.server_pid = outcome.server_pid
        return outcome

    day_log_child.run_child = counted  # type: ignore[assignment]
    return costs


def undo_memory_bounds(without: list[str], journal: Any) -> None:
    """Switch off, in this child only, the memory bounds named in --without (see WITHOUT)."""
    if "report-child" in without:
        import bot.day_log_child

        bot.day_log_child.readable_by_a_child = lambda _url: False  # type: ignore[assignment]
    if "sqlite-cache" in without:
        from sqlalchemy import event

        def default_cache(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA cache_size={SQLITE_DEFAULT_CACHE}")

        event.listen(journal.engine, "connect", default_cache)  # after the journal's pragmas
        journal.engine.dispose()  # every connection from now on is a new one
        import broker.sim.venue_store

        broker.sim.venue_store.PAGE_CACHE_KIB = -SQLITE_DEFAULT_CACHE
    if "venue-window" in without:
        import broker.sim.exchange

        broker.sim.exchange.HISTORY_KEPT = timedelta(days=365_000)


def _top_growth(snapshots: list[tracemalloc.Snapshot], count: int, frames: int = 1) -> list[str]:
    """Return the `count` source lines (with frames > 1: call stacks of `frames` frames, the
    allocating line first) whose live allocations grew most since the snapshot."""
    if not snapshots or not count:
        return []
    end = tracemalloc.take_snapshot()
    tracemalloc.stop()
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    key = "lineno" if frames <= 1 else "traceback"
    diffs = end.filter_traces(ignore).compare_to(snapshots[0].filter_traces(ignore), key)
    total = sum(d.size_diff for d in diffs) / MB
    blocks = sum(d.count_diff for d in diffs)
    lines = [f"all lines: {total:+.2f} MB in {blocks:+,} blocks"]
    for diff in diffs[:count]:
        if frames <= 1:
            lines.append(str(diff))
            continue
        lines.append(
            f"{diff.size_diff / 1024:+.1f} KiB in {diff.count_diff:+,} blocks "
            f"(now {diff.size / 1024:.1f} KiB), allocated at (innermost first):"
        )
        stack = diff.traceback.format(most_recent_first=True)
        lines += [f"    {frame.strip()}" for frame in stack if frame.startswith("  File")]
    return lines


def chart_child(opts: argparse.Namespace) -> ChartRun:
    """Render opts.charts equity charts in a worker thread; --no-release disables the release."""
    import bot.report_charts as report_charts

    label = "release after each chart" if opts.release else "release disabled"
    if not opts.release:
        report_charts.release_chart_memory = lambda: None  # this child only
    rss_import = rss_mb()
    rng = np.random.default_rng(CHART_SEED)
    values = 1e6 + np.cumsum(rng.normal(0.0, 3_000.0, size=opts.charts))
    curve = [(DEFAULT_START + timedelta(days=i), float(v)) for i, v in enumerate(values)]
    rss_warm, rss_max = float("nan"), rss_import
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:  # as asyncio.to_thread in the engine
        for i in range(opts.charts):
            pool.submit(report_charts.equity_chart_png, curve[: i + 1], curve[i][0]).result()
            rss = rss_mb()
            rss_max = max(rss_max, rss)
            if i + 1 == min(CHART_WARMUP, opts.charts):
                rss_warm = rss
    seconds = (time.perf_counter() - t0) / max(1, opts.charts)
    return ChartRun(label, opts.charts, rss_import, rss_warm, rss_mb(), rss_max, seconds)


def idle_daemon_child(opts: argparse.Namespace) -> int:
    """Run the daemon as `alvh run` does, at IDLE_SPEED, until SIGTERM; return its exit code."""
    from bot.daemon import run_daemon
    from bot.logs import setup_logging

    work = Path(opts.workdir)
    config = child_config(work, IDLE_START, "file", opts.reports, speed=IDLE_SPEED)
    setup_logging(config.logging.level, config.logging.json_path, console=False)
    return asyncio.run(run_daemon(config))


async def idle_bare_child() -> int:
    """Run an asyncio loop that only awaits an Event (set by SIGTERM); say when it is ready."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    return 0


# ---------------------------------------------------------------------------------------------
# The parent: run the children, measure, print
# ---------------------------------------------------------------------------------------------


def child_command(opts: argparse.Namespace, role: str, work: Path, **extra: str) -> list[str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", role, "--workdir", str(work)]
    if opts.reports is not None:
        cmd.append("--reports" if opts.reports else "--no-reports")
    for key, value in extra.items():
        cmd += [f"--{key.replace('_', '-')}", value]
    return cmd


def start_soak(
    opts: argparse.Namespace, journal: str, cycles: int, work: Path
) -> subprocess.Popen[str]:
    """Start one soak child (its progress lines go to our stderr)."""
    cmd = child_command(
        opts,
        "soak",
        work,
        journal=journal,
        cycles=str(cycles),
        start=opts.start.isoformat(),
        warmup=str(opts.warmup),
        sample_every=str(opts.sample_every),
        tracemalloc=str(opts.tracemalloc),
        trace_frames=str(opts.trace_frames),
        without=",".join(opts.without),
    )
    return subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, text=True)


def finish_soak(proc: subprocess.Popen[str]) -> SoakRun | str:
    """Wait for a soak child; return its samples or why it failed."""
    out, _ = proc.communicate()
    if proc.returncode != 0:
        return f"exit code {proc.returncode} (see the output above)"
    try:
        raw = json.loads(out.strip().splitlines()[-1])
        raw["samples"] = [Sample(**s) for s in raw["samples"]]
        return SoakRun(**raw)
    except (IndexError, KeyError, TypeError, json.JSONDecodeError) as exc:
        return f"unreadable result ({exc!r})"


def run_soaks(opts: argparse.Namespace, root: Path) -> dict[str, SoakRun | str]:
    """Run the soak contenders, side by side unless --sequential."""
    contenders = [
        (name, journal, cycles)
        for name, journal, cycles in (
            ("daemon config (files)", "file", opts.cycles),
            ("baseline (all in RAM)", "memory", opts.baseline_cycles),
        )
        if cycles > 0
    ]
    started: dict[str, subprocess.Popen[str]] = {}
    results: dict[str, SoakRun | str] = {}
    for name, journal, cycles in contenders:
        work = root / f"soak-{journal}"
        work.mkdir()
        started[name] = start_soak(opts, journal, cycles, work)
        if opts.sequential:
            results[name] = finish_soak(started[name])
    for name, proc in started.items():
        if name not in results:
            results[name] = finish_soak(proc)
    return results


def run_idle(opts: argparse.Namespace, role: str, work: Path) -> IdleRun | str:
    """Start an idle child, wait until it is ready, then read its CPU time every second."""
    log = work / "alvh.jsonl"
    proc = subprocess.Popen(
        child_command(opts, role, work), cwd=work, stdout=subprocess.PIPE, text=True
    )
    try:
        ready = _wait_ready(proc, role, log)
        if ready is not None:
            return ready
        time.sleep(SETTLE_SECONDS)
        slices: list[float] = []
        try:
            t_start, cpu_start = time.perf_counter(), cpu_seconds(proc.pid)
            t_prev, cpu_prev = t_start, cpu_start
            while t_prev - t_start < opts.idle_seconds:
                time.sleep(min(1.0, opts.idle_seconds - (t_prev - t_start)))
                t_now, cpu_now = time.perf_counter(), cpu_seconds(proc.pid)
                slices.append(100.0 * (cpu_now - cpu_prev) / (t_now - t_prev))
                t_prev, cpu_prev = t_now, cpu_now
            rss = rss_mb(proc.pid)
        except OSError as exc:  # /proc/<pid> is gone (ProcessLookupError too)
            return f"the child's CPU time could not be read ({exc!r}; exit code {proc.poll()})"
        if proc.poll() is not None:
            return f"the child exited during the window (code {proc.returncode})"
        jobs = _jobs_logged(log) if role == "idle-daemon" else None
        return IdleRun(role, t_prev - t_start, cpu_prev - cpu_start, max(slices), rss, jobs)
    finally:
        _terminate(proc)


def _wait_ready(proc: subprocess.Popen[str], role: str, log: Path) -> str | None:
    """Wait until the child is idle: the daemon has logged its start-up reconcile, or the bare
    loop has printed "ready". Return why it never got there, or None."""
    if role == "idle-bare":
        assert proc.stdout is not None
        line = proc.stdout.readline()
        return None if line.strip() == "ready" else f"no ready line (got {line!r})"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"the daemon exited before it was ready (code {proc.returncode})"
        if any(r.get("event") == "reconciled" for r in _log_records(log)):
            return None
        time.sleep(0.2)
    return f"the daemon did not log its start-up reconcile within {READY_TIMEOUT:.0f} s"


def run_charts(opts: argparse.Namespace, root: Path) -> list[ChartRun | str]:
    """Run the chart contender with and without the release, one after the other."""
    results: list[ChartRun | str] = []
    for release in (True, False):
        work = root / f"charts-{'release' if release else 'plain'}"
        work.mkdir()
        cmd = child_command(opts, "charts", work, charts=str(opts.charts))
        cmd.append("--release" if release else "--no-release")
        done = subprocess.run(cmd, cwd=work, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            results.append(f"exit code {done.returncode} (see the output above)")
            continue
        try:
            results.append(ChartRun(**json.loads(done.stdout.strip().splitlines()[-1])))
        except (IndexError, KeyError, TypeError, json.JSONDecodeError) as exc:
            results.append(f"unreadable result ({exc!r})")
    return results


def _log_records(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    records = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written
            continue
    return records


def _jobs_logged(log: Path) -> int:
    """Return how many distinct scheduled jobs have logged (the engine binds `job` to each)."""
    return len({(r.get("at"), r.get("job")) for r in _log_records(log) if "job" in r})


def _terminate(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def soak_table(runs: dict[str, SoakRun | str], warmup: int) -> None:
    figures = {
        name: soak_figures(run, warmup) if isinstance(run, SoakRun) else None
        for name, run in runs.items()
    }
    names = list(runs)

    def run_row(label: str, value: Callable[[SoakRun], str]) -> list[str]:
        """A row that needs only the run (shown even when it ended inside the warm-up)."""
        cells = [value(r) if isinstance(r, SoakRun) else f"not run: {r}" for r in runs.values()]
        return [label, *cells, ""]

    def row(
        label: str,
        value: Callable[[SoakRun, SoakFigures], str],
        target: str = "",
        ok: Callable[[SoakFigures], bool] | None = None,
    ) -> list[str]:
        cells = []
        for name in names:
            run, fig = runs[name], figures[name]
            if not isinstance(run, SoakRun):
                cells.append(f"not run: {run}")
            elif fig is None:
                cells.append("ended inside the warm-up")
            else:
                cells.append(value(run, fig) + (f" {verdict(ok(fig))}" if ok else ""))
        return [label, *cells, target]

    rows = [
        run_row("cycles run", lambda r: f"{r.cycles:,}"),
        run_row("simulated days", lambda r: f"{r.first_day} .. {r.samples[-1].day}"),
        run_row("stopped because", lambda r: r.why_stopped),
        run_row("RSS after imports", lambda r: f"{r.rss_imports_mb:.1f} MB"),
        run_row("RSS after set-up", lambda r: f"{r.rss_setup_mb:.1f} MB"),
        run_row(
            "daily-log children: count, CPU, peak RSS; fork server RSS",
            lambda r: (
                f"{r.children:,}, {r.child_cpu_s:,.0f} s "
                f"({r.child_cpu_s / max(r.children, 1):.2f} s each), "
                f"{r.child_max_rss_mb:.1f} MB; {r.server_rss_mb:.1f} MB"
            ),
        ),
        row(f"RSS at start (after {warmup:,} cycles)", lambda r, f: f"{f.rss_start:.1f} MB"),
        row(
            "RSS at end",
            lambda r, f: f"{f.rss_end:.1f} MB",
            f"< {TARGET_RSS_MB:.0f} MB",
            lambda f: f.rss_end < TARGET_RSS_MB,
        ),
        row(
            "RSS max",
            lambda r, f: f"{f.rss_max:.1f} MB",
            f"< {TARGET_RSS_MB:.0f} MB",
            lambda f: f.rss_max < TARGET_RSS_MB,
        ),
        row(
            "RSS growth start -> end",
            lambda r, f: f"{f.growth_pct:+.2f} %",
            f"< {TARGET_GROWTH_PCT:.0f} %",
            lambda f: f.growth_pct < TARGET_GROWTH_PCT,
        ),
        row(
            "RSS slope (fit, +/- 1 s.e.)",
            lambda r, f: f"{f.slope:+.3f} +/- {f.slope_se:.3f} MB / 10k cycles",
        ),
        row(
            "SQLite heap start -> end",
            lambda r, f: f"{f.sqlite_start:.1f} -> {f.sqlite_end:.1f} MB",
        ),
        row(
            "Python allocator blocks start -> end",
            lambda r, f: f"{f.blocks_start / 1e6:.3f}M -> {f.blocks_end / 1e6:.3f}M",
        ),
        row(
            "file-backed RSS start -> end",
            lambda r, f: f"{f.rss_file_start:.1f} -> {f.rss_file_end:.1f} MB",
        ),
        row(
            "C heap in use / free start -> end",
            lambda r, f: (
                f"{f.malloc_used_start:.1f} / {f.malloc_free_start:.1f} -> "
                f"{f.malloc_used_end:.1f} / {f.malloc_free_end:.1f} MB"
            ),
        ),
        row("cycles / s (after warm-up)", lambda r, f: f"{f.rate:.1f}"),
        row(
            "cycles / s first -> last tenth",
            lambda r, f: f"{f.rate_first:.1f} -> {f.rate_last:.1f}",
        ),
        row("wall time after warm-up", lambda r, f: f"{f.wall_s:,.0f} s"),
        row(
            f"projected wall time of {DEFAULT_CYCLES:,} cycles",
            lambda r, f: f"{f.projected_s / 3600:.1f} h (trend of s/cycle)",
        ),
    ]
    header = ["", *names, "target"]
    print_table("Soak: memory and cycle rate", header, rows)


def samples_table(runs: dict[str, SoakRun | str]) -> None:
    """Show RSS and the cycle rate at evenly spaced samples of each run."""
    done = {name: run for name, run in runs.items() if isinstance(run, SoakRun)}
    if not done:
        return
    longest = max(done.values(), key=lambda r: len(r.samples))
    step = max(1, (len(longest.samples) - 1) // (SAMPLE_ROWS - 1))
    picks = sorted({s.cycles for s in longest.samples[::step]} | {longest.samples[-1].cycles})
    rows = []
    for cycles in picks:
        cells = [f"{cycles:,}"]
        for run in done.values():
            at = {s.cycles: i for i, s in enumerate(run.samples)}
            i = at.get(cycles)
            if i is None:
                cells.append("-")
                continue
            s = run.samples[i]
            prev = run.samples[max(0, i - step)]
            rate = rate_between(prev, s) if i else float("nan")
            cells.append(
                f"{s.day}  {s.rss_mb:6.1f} MB  (SQLite {s.sqlite_mb:5.1f} MB, "
                f"{s.py_blocks / 1e6:.2f}M blocks, C heap {s.malloc_used_mb:5.1f} used "
                f"{s.malloc_free_mb:5.1f} free, files {s.rss_file_mb:5.1f})  {rate:6.1f} cycles/s"
            )
        rows.append(cells)
    print_table(
        "Soak samples (cycles/s over the preceding interval)",
        ["cycles", *done],
        rows,
    )
    for run in done.values():
        if run.top_growth:
            print(f"\n{run.label}: live allocations grown most since the warm-up (tracemalloc)")
            for line in run.top_growth:
                print(f"  {line}")


def chart_table(runs: list[ChartRun | str]) -> None:
    rows = []
    for run in runs:
        if not isinstance(run, ChartRun):
            rows.append([f"not run: {run}", "", "", "", "", "", "", ""])
            continue
        ok = verdict(run.growth_mb < TARGET_CHART_GROWTH_MB)
        rows.append(
            [
                run.label,
                f"{run.charts:,}",
                f"{run.rss_import_mb:.1f} MB",
                f"{run.rss_warm_mb:.1f} MB",
                f"{run.rss_end_mb:.1f} MB",
                f"{run.rss_max_mb:.1f} MB",
                f"{run.growth_mb:+.1f} MB < {TARGET_CHART_GROWTH_MB:.0f} MB {ok}",
                f"{1000 * run.seconds_per_chart:.0f} ms",
            ]
        )
    print_table(
        "Daily report chart: RSS of a child rendering equity charts in a worker thread",
        [
            "",
            "charts",
            "after import",
            f"after {CHART_WARMUP}",
            "at end",
            "max",
            f"growth {CHART_WARMUP} -> end",
            "per chart",
        ],
        rows,
        note="release: gc.collect() then malloc_trim(0) after each chart "
        "(bot.report_charts.release_chart_memory).",
    )


def idle_table(runs: dict[str, IdleRun | str]) -> None:
    rows = []
    for name, run in runs.items():
        if not isinstance(run, IdleRun):
            rows.append([name, f"not run: {run}", "", "", "", "", "", ""])
            continue
        rows.append(
            [
                name,
                f"{run.wall_s:.1f} s",
                f"{run.cpu_s:.3f} s",
                f"{run.pct:.3f} %",
                f"{run.max_slice_pct:.1f} %",
                f"{run.rss_mb:.1f} MB",
                "-" if run.jobs_in_window is None else str(run.jobs_in_window),
                f"< {TARGET_IDLE_CPU_PCT:.0f} % {verdict(run.pct < TARGET_IDLE_CPU_PCT)}",
            ]
        )
    print_table(
        "Idle CPU: CPU time (user + system, all threads) over wall time, % of one core",
        ["", "window", "CPU", "% of a core", "busiest 1 s", "RSS", "jobs run", "target"],
        rows,
        note=(
            f"idle-daemon: bot.daemon.run_daemon at sim.speed {IDLE_SPEED} (first job 120 s "
            "after the start), measured from 1 s after its start-up reconcile; includes the "
            "30 s journal heartbeat when the window is 30 s or longer.\n"
            "idle-bare: asyncio.run() awaiting an Event, nothing else.\n"
            f"CPU time is read in steps of {cpu_resolution():.3f} s."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=DEFAULT_CYCLES, help="engine cycles")
    parser.add_argument(
        "--baseline-cycles",
        type=int,
        default=None,
        help="cycles of the in-RAM baseline (default: --cycles; 0 skips it)",
    )
    parser.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START)
    parser.add_argument("--warmup", type=int, default=WARMUP_CYCLES)
    parser.add_argument("--sample-every", type=int, default=SAMPLE_EVERY)
    parser.add_argument(
        "--idle-seconds", type=float, default=IDLE_SECONDS, help="0 skips the idle CPU part"
    )
    parser.add_argument(
        "--reports",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the daily fill and roll log (default: the config's default)",
    )
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="run the two soak contenders one after the other (default: at the same time)",
    )
    parser.add_argument("--tracemalloc", type=int, default=0, metavar="N")
    parser.add_argument(
        "--trace-frames",
        type=int,
        default=1,
        metavar="K",
        help="with --tracemalloc: group by call stacks of K frames instead of source lines",
    )
    parser.add_argument(
        "--charts",
        type=int,
        default=0,
        metavar="N",
        help="also measure RSS over N daily report charts (0: skip; 500 is a good size)",
    )
    parser.add_argument(
        "--release", action=argparse.BooleanOptionalAction, default=True, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--child", choices=["soak", "idle-daemon", "idle-bare", "charts"], help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--without",
        type=lambda text: [w for w in text.split(",") if w],
        default=[],
        metavar="BOUND[,BOUND]",
        help="switch memory bounds off, to measure what each buys: " + ", ".join(WITHOUT),
    )
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument(
        "--journal", choices=["file", "memory"], default="file", help=argparse.SUPPRESS
    )
    opts = parser.parse_args(argv)
    if opts.cycles < 1 or opts.warmup < 0 or opts.sample_every < 1 or opts.charts < 0:
        parser.error(
            "--cycles and --sample-every must be positive, --warmup and --charts non-negative"
        )
    unknown = set(opts.without) - set(WITHOUT)
    if unknown:
        parser.error(f"--without: unknown {sorted(unknown)}; known: {', '.join(WITHOUT)}")
    if not 0 <= opts.idle_seconds <= MAX_IDLE_SECONDS:
        parser.error(f"--idle-seconds must be in [0, {MAX_IDLE_SECONDS:.0f}]")
    if opts.baseline_cycles is None:
        opts.baseline_cycles = opts.cycles
    return opts


def child_main(opts: argparse.Namespace) -> int:
    if opts.child == "soak":
        run = asyncio.run(soak_child(opts))
        print(json.dumps(asdict(run)))
        return 0
    if opts.child == "idle-daemon":
        return idle_daemon_child(opts)
    if opts.child == "charts":
        print(json.dumps(asdict(chart_child(opts))))
        return 0
    return asyncio.run(idle_bare_child())


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if opts.child:
        return child_main(opts)
    print(
        f"Soak benchmark: {opts.cycles:,} engine cycles from {opts.start} (baseline "
        f"{opts.baseline_cycles:,}), warm-up {opts.warmup:,}, RSS every {opts.sample_every:,} "
        f"cycles ({rss_source()}); idle CPU over {opts.idle_seconds:.0f} s"
    )
    print(f"python {sys.version.split()[0]}; numpy {np.__version__}; {os.cpu_count()} CPUs")
    for bound in opts.without:
        print(f"WITHOUT {bound}: {WITHOUT[bound]}")
    with tempfile.TemporaryDirectory(prefix="alvh-soak-") as tmp:
        root = Path(tmp)
        soaks = run_soaks(opts, root)
        charts = run_charts(opts, root) if opts.charts > 0 else []
        idles: dict[str, IdleRun | str] = {}
        if opts.idle_seconds > 0:
            for role in ("idle-daemon", "idle-bare"):
                work = root / role
                work.mkdir()
                idles[role] = run_idle(opts, role, work)
    soak_table(soaks, opts.warmup)
    samples_table(soaks)
    if charts:
        chart_table(charts)
    if idles:
        idle_table(idles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
