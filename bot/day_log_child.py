"""The daily fill and roll log written by a short-lived child process (bot.day_log_child).

Why a child: drawing the equity chart imports matplotlib (about 28 MB that a daemon never gives
back) and each report reads the journal's whole history (equity curve, realized P&L), which
fills SQLite's page caches and leaves high-water marks in the C heap. A child that writes the
day's folder and exits takes all of that with it: the daemon's memory stays flat over months
(bench/soak.py).

Why a fork server: a fresh interpreter per report paid Python's start-up and the report's
imports (pandas, matplotlib, SQLModel, the exchange calendars) every day: about 2.5 s of CPU,
1.5 s of it imports. The children now come from multiprocessing's fork server, a process the
daemon starts at its first report that imports this module (and so the report's code) once
and then only forks: a child costs the report's own work (about 0.5-1 s) and nothing more.
The server is a separate process holding those imports (about 150 MB of RSS, shared with each
child until written); it does no work of its own, so it does not grow, and it exits with the
daemon (even a killed one: it watches a pipe the daemon holds). It is stopped when no report
came for `SERVER_IDLE_SECONDS` of wall time: a daemon trading in real time writes one report
a day, so it pays the imports once a day (as a fresh interpreter would) and holds the server's
memory for two minutes, not all day; a replay or an accelerated simulation, whose days come
seconds apart, keeps it.

Modeling choices:
- Only a journal that another process can open is written by a child: a SQLite file (or a
  database server). An in-memory SQLite journal (`sqlite://`, as `alvh replay --daily-logs`
  has it) exists only inside the daemon's process, so its log is written in-process, in a
  worker thread, exactly as before (`write_day_log_safely`).
- The child calls the same `write_day_log` as `alvh report --date D`, on a journal it opens
  itself, so the files are byte for byte those an in-process writer makes. It never reads the
  config file: the daemon hands it a `DayLogRequest` (the journal's URL, password included,
  which is passed through a pipe and so never shows in the process list; the day; the reports
  folder as the config gives it; the macro events file). It runs in the daemon's working
  directory with the daemon's environment and import path (the server was started with them),
  so relative paths mean the same in both (the child moves to the daemon's folder of the
  moment).
- It answers through a pipe: the folder and the counts the daemon logs, or the error and its
  traceback, plus its own CPU seconds and peak RSS. The daemon logs "daily log written" or
  "daily log not written" with the fields of `write_day_log_safely` (day, folder, fills and
  intents; or day, folder and error, plus the child's traceback as `exception`) and the
  child's cost (`child_cpu_s`, `child_peak_rss_mb`). A child that dies without answering (a
  crash in C, a kill) is reported with its exit code; what it printed went to the daemon's
  stderr.
- The daemon waits for the child without blocking its event loop (the answer pipe is watched
  by the loop) and at most `CHILD_TIMEOUT` seconds, start-up included; a child still running
  then is killed, and one cancelled (the daemon stopping) is killed too, so no child outlives
  its daemon. A child that fails, times out or cannot start never stops trading: the day is
  logged as not written and can be rebuilt with `alvh report --date D`.
- The engine awaits the child inside its daily close job, under the job lock: two reports
  never run at once (for the same day or not) and no other job or command writes to the
  journal while the child reads it. The first report also waits for the server's imports
  (2-3 s, once per daemon).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.engine import URL, make_url

from bot.daily_report import MACRO_EVENTS_CSV, WrittenDayLog, write_day_log, write_day_log_safely
from storage.journal import Journal

log = structlog.get_logger("alvh.daily_report")

CHILD_MODULE = "bot.day_log_child"
PRELOADED = (CHILD_MODULE, "bot.report_charts")  # what the fork server imports, once
CHILD_TIMEOUT = 60.0  # seconds; a report takes about 1 s in a child, 3-4 s for the first one
KILLED_CHILD_REAPED_WITHIN = 5.0  # seconds
SERVER_IDLE_SECONDS = 120.0  # wall seconds without a report before the fork server is stopped

FORK_SERVER = multiprocessing.get_context("forkserver")
FORK_SERVER.set_forkserver_preload(list(PRELOADED))

Work = Callable[["DayLogRequest"], dict[str, Any]]


@dataclass(frozen=True)
class DayLogRequest:
    """What the child needs to write one day's folder."""

    url: str  # the journal's SQLAlchemy URL, password included
    day: date
    reports_dir: Path
    macro_events_csv: Path = MACRO_EVENTS_CSV
    cwd: str = field(default_factory=os.getcwd)  # the daemon's: relative paths mean the same


@dataclass(frozen=True)
class ChildReport:
    """What a child wrote, and what it cost."""

    written: WrittenDayLog
    cpu_seconds: float
    peak_rss_mb: float
    server_pid: int  # the fork server the child came from


@dataclass(frozen=True)
class ChildFailure:
    """Why a child did not write the day's log."""

    error: str
    traceback: str | None = None


def readable_by_a_child(url: URL | str) -> bool:
    """Say whether another process can open the journal at `url` (not an in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    database = parsed.database or ""
    in_memory = parsed.query.get("mode") == "memory" or "mode=memory" in database
    return database not in ("", ":memory:") and not in_memory


async def write_day_log_off_the_loop(
    journal: Journal, day: date, reports_dir: Path, timeout: float = CHILD_TIMEOUT
) -> WrittenDayLog | None:
    """Write the day's log without blocking the event loop, in a child process when it can read
    the journal, else in a worker thread; log the outcome and never raise (the daemon goes on).
    """
    url = journal.engine.url
    if not readable_by_a_child(url):
        return await asyncio.to_thread(write_day_log_safely, journal, day, reports_dir)
    request = DayLogRequest(url.render_as_string(hide_password=False), day, reports_dir)
    return await write_day_log_in_child(request, timeout)


async def write_day_log_in_child(
    request: DayLogRequest, timeout: float = CHILD_TIMEOUT
) -> WrittenDayLog | None:
    """Run the child for `request`, wait at most `timeout` seconds, log the outcome."""
    outcome = await run_child(request, timeout)
    day, folder = request.day.isoformat(), request.reports_dir / request.day.isoformat()
    if isinstance(outcome, ChildFailure):
        log.error(
            "daily log not written",
            day=day,
            folder=str(folder),
            error=outcome.error,
            exception=outcome.traceback,
        )
        return None
    written = outcome.written
    log.info(
        "daily log written",
        day=day,
        folder=str(written.folder),
        fills=written.fills,
        intents=written.intents,
        child_cpu_s=round(outcome.cpu_seconds, 3),
        child_peak_rss_mb=round(outcome.peak_rss_mb, 1),
    )
    return written


async def run_child(
    request: DayLogRequest, timeout: float, work: Work | None = None
) -> ChildReport | ChildFailure:
    """Fork a child from the server, have it do `work` (the day's log), and return its answer.

    `work` runs in the child; it must be importable by name (a module-level function).
    """
    _idle_stop.cancel()
    try:
        return await _run_child(request, timeout, work)
    finally:
        _idle_stop.arm(asyncio.get_running_loop())


class _IdleStop:
    """Stops the fork server once no report came for `SERVER_IDLE_SECONDS`."""

    def __init__(self) -> None:
        self._timer: asyncio.TimerHandle | None = None

    def arm(self, loop: asyncio.AbstractEventLoop) -> None:
        self.cancel()
        self._timer = loop.call_later(SERVER_IDLE_SECONDS, stop_fork_server)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


_idle_stop = _IdleStop()


def stop_fork_server() -> None:
    """Stop the fork server if one runs (the next report starts another). It is multiprocessing's
    own server, stopped with its `_stop`, the method CPython's tests use; on a Python without it
    the server simply lives as long as the daemon."""
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)
    if stop is None:
        return
    try:
        stop()
    except OSError as exc:  # already gone: the next report starts a new one all the same
        log.warning("fork server not stopped cleanly", error=str(exc))


async def _run_child(
    request: DayLogRequest, timeout: float, work: Work | None
) -> ChildReport | ChildFailure:
    receiving, sending = FORK_SERVER.Pipe(duplex=False)
    process = FORK_SERVER.Process(
        target=serve, args=(work or answer_request, request, sending), name="alvh-day-log"
    )
    try:
        try:
            await _start(process)
        except (OSError, RuntimeError, ValueError) as exc:
            return ChildFailure(f"the report process did not start: {type(exc).__name__}: {exc}")
        finally:
            sending.close()  # the child's copy only: EOF on `receiving` once the child is gone
        try:
            await asyncio.wait_for(_readable(receiving), timeout)
        except TimeoutError:
            return ChildFailure(f"the report process did not finish within {timeout:g} s (killed)")
        return await _answer(receiving, process)
    finally:
        await _reap(process)
        receiving.close()


async def _start(process: multiprocessing.process.BaseProcess) -> None:
    """Start `process` in a worker thread (the server answers with the pid once it has forked,
    which the first time waits for its imports); if cancelled meanwhile, the start completes
    and the `finally` of the caller kills the child."""
    starting = asyncio.ensure_future(asyncio.to_thread(process.start))
    try:
        await asyncio.shield(starting)
    except asyncio.CancelledError:
        await asyncio.wait([starting])
        raise


async def _readable(connection: Connection) -> None:
    """Return once `connection` has an answer or its other end is closed (the child is gone)."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    fd = connection.fileno()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


async def _answer(
    receiving: Connection, process: multiprocessing.process.BaseProcess
) -> ChildReport | ChildFailure:
    """Read the child's answer; a child gone without one is reported with its exit code."""
    try:
        answer: dict[str, Any] = receiving.recv()
    except EOFError:
        await asyncio.to_thread(process.join, KILLED_CHILD_REAPED_WITHIN)
        return ChildFailure(f"the report process exited with code {process.exitcode}")
    if not answer["written"]:
        return ChildFailure(str(answer["error"]), str(answer["traceback"]))
    return ChildReport(
        answer["log"],
        float(answer["cpu_seconds"]),
        float(answer["peak_rss_mb"]),
        int(answer["server_pid"]),
    )


async def _reap(process: multiprocessing.process.BaseProcess) -> None:
    """Kill the child if it still runs (timed out, or the daemon is stopping) and reap it."""
    if process.pid is None:  # never started
        return
    if process.exitcode is None:
        process.kill()
    await asyncio.shield(asyncio.to_thread(process.join, KILLED_CHILD_REAPED_WITHIN))


# the child


def serve(work: Work, request: DayLogRequest, sending: Connection) -> None:
    """The child's body: do `work` in the daemon's folder, add what it cost, send the answer."""
    os.chdir(request.cwd)  # the server's folder is the one the daemon had at the first report
    answer = work(request)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    answer["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    answer["peak_rss_mb"] = usage.ru_maxrss / 1024  # kB on Linux
    answer["server_pid"] = os.getppid()
    sending.send(answer)
    sending.close()


def answer_request(request: DayLogRequest) -> dict[str, Any]:
    """Write the requested day's log; return the answer the daemon reads (never raises)."""
    try:
        journal = Journal(request.url)
        try:
            written = write_day_log(
                journal, request.day, request.reports_dir, request.macro_events_csv
            )
        finally:
            journal.dispose()
    except Exception as exc:
        return {
            "written": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    return {"written": True, "log": written}
