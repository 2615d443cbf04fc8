"""The real `alvh run` as a child process, watched through its JSON-lines log, for crash tests.

Modeling choices:
- The daemon runs in its own session (`start_new_session`), so its process group is its pid and
  `kill -9` goes to the whole group, as an operator's `kill -9 -PGID` or a container runtime would.
- The test reads the daemon's JSON-lines log as it grows (`LogTail`): one `json.loads` per
  complete line; a trailing line without its newline (a write cut by the kill) is left for later
  and never parsed. Waiting polls every millisecond, so a kill lands a few milliseconds after the
  event it follows; every wait has a deadline and answers None instead of hanging.
- The simulated venue's record is read only after the daemon is gone, through the venue's own
  store (`broker.sim.venue_store.VenueStore`), which takes the same exclusive lock the daemon held.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broker.sim.venue_state import VenueState
from broker.sim.venue_store import VenueStore

ALVH = str(Path(sys.executable).with_name("alvh"))
Event = dict[str, Any]


@dataclass(frozen=True)
class DaemonFiles:
    """Where one daemon's config, journal, log, reports and venue file live."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "alvh.toml"

    @property
    def journal_url(self) -> str:
        return f"sqlite:///{self.root / 'alvh.sqlite'}"

    @property
    def log(self) -> Path:
        return self.root / "alvh.jsonl"

    @property
    def venue(self) -> Path:
        return self.root / "venue.sqlite"

    def write_config(self, start: str, speed: float, extra: str = "") -> Path:
        """Write a config with every file under `root`; `extra` is appended TOML."""
        self.config.write_text(
            f'[database]\nurl = "{self.journal_url}"\n'
            f'[logging]\njson_path = "{self.log}"\n'
            f'[reports]\ndir = "{self.root / "reports"}"\n'
            f'[sim]\nstart = {start}\nspeed = {speed}\nvenue_path = "{self.venue}"\n'
            + ("" if "[strategy.vix]" in extra else "[strategy.vix]\nenabled = false\n")
            + extra
        )
        return self.config


class LogTail:
    """Reads the events appended to a JSON-lines file since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self.seen: list[Event] = []

    def read_new(self) -> list[Event]:
        """Return the complete lines written since the last call, parsed."""
        if not self.path.exists():
            return []
        with self.path.open("rb") as file:
            file.seek(self._offset)
            chunk = file.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        events = [json.loads(line) for line in complete.splitlines() if line.strip()]
        self.seen.extend(events)
        return events

    def wait_for(
        self, matches: Callable[[Event], bool], timeout: float, poll: float = 0.001
    ) -> Event | None:
        """Return the first new event that `matches`, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.read_new():
                if matches(event):
                    return event
            if time.monotonic() >= deadline:
                return None
            time.sleep(poll)


class DaemonProcess:
    """One `alvh run --config C` child process in its own process group."""

    def __init__(self, config: Path, console: Path) -> None:
        """Start the daemon; its console output (stderr) goes to `console`, never to a pipe that
        could fill up and block it."""
        self.console = console
        with console.open("a") as sink:
            self.process = subprocess.Popen(
                [ALVH, "run", "--config", str(config)],
                cwd=config.parent,
                stdout=sink,
                stderr=sink,
                start_new_session=True,
                env={**os.environ, "COLUMNS": "200"},
            )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill9(self) -> int:
        """SIGKILL the daemon's process group and reap it; return its exit code (-9)."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=30)

    def interrupt(self, timeout: float = 60.0) -> int:
        """Ctrl-C the daemon and wait for it; return its exit code."""
        if self.alive:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise

    def ensure_dead(self) -> None:
        """Kill the daemon if it still runs (test clean-up after a failure)."""
        if self.alive:
            self.kill9()


def venue_record(path: Path) -> VenueState:
    """Return the venue's saved account; call it only when no daemon holds the venue file."""
    store = VenueStore(path, timeout=10.0)
    try:
        state = store.load()
    finally:
        store.close()
    if state is None:
        raise AssertionError(f"{path} holds no paper account")
    return state
