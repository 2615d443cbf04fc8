"""A few simulated days through the daemon's own code path, and the real process end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from configs import CONDORS_ONLY

from bot.config import AppConfig
from bot.daemon import run_daemon
from broker.orders import intent_id_from_ref
from storage.journal import Journal

ROOT = Path(__file__).resolve().parents[2]
ALVH = str(Path(sys.executable).with_name("alvh"))


def config_for(tmp_path: Path, start: str, speed: float) -> AppConfig:
    return AppConfig.model_validate(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'alvh.sqlite'}"},
            "logging": {"json_path": str(tmp_path / "alvh.jsonl")},
            "reports": {"dir": str(tmp_path / "reports")},
            "sim": {
                "start": start,
                "speed": speed,
                "venue_path": str(tmp_path / "venue.sqlite"),
            },
            "strategy": CONDORS_ONLY,
        }
    )


def write_config(tmp_path: Path, start: str, speed: float) -> Path:
    path = tmp_path / "test.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "alvh.sqlite"}"\n'
        f'[logging]\njson_path = "{tmp_path / "alvh.jsonl"}"\n'
        f'[reports]\ndir = "{tmp_path / "reports"}"\n'
        f"[sim]\nstart = {start}\nspeed = {speed}\n"
        f'venue_path = "{tmp_path / "venue.sqlite"}"\n'
        "[strategy.vix]\nenabled = false\n"
    )
    return path


async def test_daemon_opens_a_condor_on_monday_and_journals_four_fills(tmp_path: Path) -> None:
    config = config_for(tmp_path, "2018-01-05", speed=1e9)
    assert await run_daemon(config, until=date(2018, 1, 10)) == 0
    journal = Journal(config.database.url)
    [condor] = journal.open_structures()
    assert condor.opened_at.date() == date(2018, 1, 8)  # the Monday entry window
    assert len(condor.legs) == 4
    fills = journal.last_fills(10)
    assert len(fills) == 4
    [ref] = {f.order_ref for f in fills}
    assert intent_id_from_ref(ref) == journal.open_intent_id(condor.id)
    assert [day for day, _ in journal.equity_curve()] == [
        date(2018, 1, 5),
        date(2018, 1, 8),
        date(2018, 1, 9),
        date(2018, 1, 10),
    ]
    assert condor.id in journal.open_marks()  # management cycles marked it


async def test_a_restart_resumes_the_same_paper_account_and_does_not_duplicate(
    tmp_path: Path,
) -> None:
    config = config_for(tmp_path, "2018-01-08", speed=1e9)
    await run_daemon(config, until=date(2018, 1, 8))
    first = Journal(config.database.url)
    [condor] = first.open_structures()
    first.dispose()
    # The venue keeps its account in its own file: the second process resumes it at the
    # venue's clock (sim.start no longer applies), reconciles, and keeps managing the condor.
    await run_daemon(config, until=date(2018, 1, 10))
    journal = Journal(config.database.url)
    assert journal.fill_count() == 4
    assert [s.id for s in journal.open_structures()] == [condor.id]
    assert [day for day, _ in journal.equity_curve()] == [
        date(2018, 1, 8),
        date(2018, 1, 9),
        date(2018, 1, 10),
    ]


def wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def condor_opened(log: Path) -> bool:
    if not log.exists():
        return False
    return any(json.loads(line).get("event") == "structure opened" for line in log.open())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_alvh_run_opens_a_condor_status_shows_it_and_a_signal_stops_it_cleanly(
    tmp_path: Path, sig: signal.Signals
) -> None:
    config = write_config(tmp_path, "2018-01-05", speed=20000.0)
    output_file = tmp_path / "daemon.out"  # a file, never an unread pipe that fills
    with output_file.open("w") as sink:
        daemon = subprocess.Popen(
            [ALVH, "run", "--config", str(config)],
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )
    try:
        assert wait_for(lambda: condor_opened(tmp_path / "alvh.jsonl"), 60), "no condor opened"
        status = subprocess.run(
            [ALVH, "status", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "250"},
        )
        assert status.returncode == 0, status.stderr
        assert "iron_condor" in status.stdout and "SPXW" in status.stdout
        assert status.stdout.count("alvh-") >= 4  # the four fills with their reference
    finally:
        daemon.send_signal(sig)
        daemon.wait(timeout=60)
    output = output_file.read_text()
    assert daemon.returncode == 0, output
    assert "daemon stopped" in output
