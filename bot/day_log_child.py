"""The daily fill and roll log written by a short-lived child process (bot.day_log_child).

Why a child: drawing the equity chart imports matplotlib (about 28 MB that a daemon never gives
back) and each report reads the journal's whole history (equity curve, realized P&L), which
fills SQLite's page caches and leaves high-water marks in the C heap. A child that writes the
day's folder and exits takes all of that with it: the daemon's memory stays flat over months
(bench/soak.py). The price is a Python start-up per day: about 2.5 s of CPU, 1.5 s of it
imports, and a peak of 160 MB for those seconds, once a day.

Modeling choices:
- Only a journal that another process can open is written by a child: a SQLite file (or a
  database server). An in-memory SQLite journal (`sqlite://`, as `alvh replay --daily-logs`
  has it) exists only inside the daemon's process, so its log is written in-process, in a
  worker thread, exactly as before (`write_day_log_safely`).
- The child calls the same `write_day_log` as `alvh report --date D`, on a journal it opens
  itself, so the files are byte for byte those an in-process writer makes. It never reads the
  config file: the daemon hands it the settings it needs in a JSON request on its stdin (the
  journal's URL, password included, which therefore never shows in the process list; the
  day; the reports folder as the config gives it; the macro events file). It inherits the
  daemon's working directory, so relative paths mean the same in both, and its environment,
  with the project's root put first on PYTHONPATH.
- It answers with one JSON line on stdout: the folder and the counts the daemon logs, or the
  error and its traceback (exit code 1). The daemon logs "daily log written" or "daily log
  not written" with the same fields as `write_day_log_safely` (day, folder, fills and
  intents; or day, folder and error, plus the child's traceback as `exception`).
- The daemon waits for the child without blocking its event loop (asyncio subprocess) and at
  most `CHILD_TIMEOUT` seconds; a child still running then is killed, and one cancelled
  (the daemon stopping) is killed too, so no child outlives its daemon. A child that fails,
  times out or cannot start never stops trading: the day is logged as not written and can be
  rebuilt with `alvh report --date D`.
- The engine awaits the child inside its daily close job, under the job lock: two reports
  never run at once (for the same day or not) and no other job or command writes to the
  journal while the child reads it. The next job waits for the child's start-up and the
  report (2-3 s; in the daemon the next job after the 16:20 close is the next morning's), or
  at most `CHILD_TIMEOUT` when the child hangs.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.engine import URL, make_url

from bot.daily_report import MACRO_EVENTS_CSV, WrittenDayLog, write_day_log, write_day_log_safely
from storage.journal import Journal

log = structlog.get_logger("alvh.daily_report")

CHILD_MODULE = "bot.day_log_child"
CHILD_TIMEOUT = 60.0  # seconds; a report takes 2.5-3 s in a child, start-up included
PROJECT_ROOT = Path(__file__).resolve().parents[1]
STDERR_TAIL = 4_000  # characters of a crashed child's stderr kept for the log


@dataclass(frozen=True)
class DayLogRequest:
    """What the child needs to write one day's folder."""

    url: str  # the journal's SQLAlchemy URL, password included
    day: date
    reports_dir: Path
    macro_events_csv: Path = MACRO_EVENTS_CSV

    def to_json(self) -> str:
        return json.dumps(
            {
                "url": self.url,
                "day": self.day.isoformat(),
                "reports_dir": str(self.reports_dir),
                "macro_events_csv": str(self.macro_events_csv),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> DayLogRequest:
        raw = json.loads(text)
        return cls(
            raw["url"],
            date.fromisoformat(raw["day"]),
            Path(raw["reports_dir"]),
            Path(raw["macro_events_csv"]),
        )


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
    request: DayLogRequest, timeout: float = CHILD_TIMEOUT, python: str = sys.executable
) -> WrittenDayLog | None:
    """Run the child for `request`, wait at most `timeout` seconds, log the outcome."""
    outcome = await run_child(request, timeout, python)
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
    log.info(
        "daily log written",
        day=day,
        folder=str(outcome.folder),
        fills=outcome.fills,
        intents=outcome.intents,
    )
    return outcome


async def run_child(
    request: DayLogRequest, timeout: float, python: str = sys.executable
) -> WrittenDayLog | ChildFailure:
    """Start the child, send it the request, and return what it wrote or why it did not."""
    try:
        process = await asyncio.create_subprocess_exec(
            python,
            "-m",
            CHILD_MODULE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=child_environment(os.environ),
        )
    except OSError as exc:
        return ChildFailure(f"the report process did not start: {type(exc).__name__}: {exc}")
    try:
        out, err = await asyncio.wait_for(process.communicate(request.to_json().encode()), timeout)
    except TimeoutError:
        return ChildFailure(f"the report process did not finish within {timeout:g} s (killed)")
    finally:
        if process.returncode is None:  # timed out, or the daemon is stopping (cancelled)
            process.kill()
            await process.wait()
    return parse_answer(out.decode(errors="replace"), err.decode(errors="replace"), process)


def parse_answer(
    out: str, err: str, process: asyncio.subprocess.Process
) -> WrittenDayLog | ChildFailure:
    """Read the child's last stdout line: the written log, or the child's own error."""
    lines = out.strip().splitlines()
    try:
        answer: dict[str, Any] = json.loads(lines[-1])
        if answer["written"]:
            return WrittenDayLog(
                Path(answer["folder"]),
                int(answer["fills"]),
                int(answer["intents"]),
                int(answer["rolls"]),
                bool(answer["has_equity"]),
            )
        return ChildFailure(str(answer["error"]), str(answer["traceback"]))
    except (IndexError, KeyError, TypeError, ValueError):
        tail = err[-STDERR_TAIL:] or None
        return ChildFailure(f"the report process exited with code {process.returncode}", tail)


def child_environment(parent: Mapping[str, str]) -> dict[str, str]:
    """Return the daemon's environment with the project's root first on PYTHONPATH."""
    env = dict(parent)
    paths = [str(PROJECT_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


# the child


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
    return {
        "written": True,
        "folder": str(written.folder),
        "fills": written.fills,
        "intents": written.intents,
        "rolls": written.rolls,
        "has_equity": written.has_equity,
    }


def main() -> int:
    """Read one request from stdin, write the day's log, print the answer as one JSON line."""
    answer = answer_request(DayLogRequest.from_json(sys.stdin.read()))
    print(json.dumps(answer), flush=True)
    return 0 if answer["written"] else 1


if __name__ == "__main__":
    sys.exit(main())
