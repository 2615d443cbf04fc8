"""What the engine reads again each cycle: the runtime state (kept by a replay until it changes)
and the macro calendar (read again when its file changes).

A replay has no command channel, so only its engine writes the runtime state; it keeps the
state between cycles. Commands (`before_job`, `between_jobs`) and the engine's own write
(consuming `skip_next_entry`) make it read the state again.
"""

from __future__ import annotations

import asyncio
import os
from datetime import date
from pathlib import Path

import pytest

from bot.clock import VirtualClock
from bot.config import AppConfig
from bot.engine import TradingEngine
from bot.jobs import JobName
from bot.wiring import build_sim_system
from broker.errors import ConfigError
from storage import commands
from storage.journal import Journal


def _engine(tmp_path: Path, cache: bool) -> tuple[TradingEngine, Journal]:
    config = AppConfig.model_validate({"logging": {"json_path": str(tmp_path / "r.jsonl")}})
    journal = Journal("sqlite://")
    system = build_sim_system(config, journal, date(2018, 1, 8), pace=0.0, persist_venue=False)
    system.engine.cache_runtime = cache
    return system.engine, journal


def test_the_daemon_reads_a_change_at_once(tmp_path: Path) -> None:
    engine, journal = _engine(tmp_path, cache=False)
    assert not engine.runtime_state().paused
    commands.set_runtime(journal.engine, {"paused": True})
    assert engine.runtime_state().paused


def test_a_replay_keeps_the_state_until_a_command_or_its_own_write(tmp_path: Path) -> None:
    engine, journal = _engine(tmp_path, cache=True)
    assert not engine.runtime_state().paused
    commands.set_runtime(journal.engine, {"paused": True})  # behind the engine's back
    assert not engine.runtime_state().paused

    async def nothing() -> None:
        return None

    asyncio.run(engine.between_jobs(nothing))
    assert engine.runtime_state().paused


@pytest.mark.parametrize("cache", [False, True])
def test_the_skipped_entry_is_consumed_once_either_way(tmp_path: Path, cache: bool) -> None:
    engine, journal = _engine(tmp_path, cache)
    commands.set_runtime(journal.engine, {"skip_next_entry": True})

    async def two_entries() -> tuple[bool, bool]:
        await engine.start()
        clock = engine.clock
        assert isinstance(clock, VirtualClock)
        clock.advance_to(clock.now().replace(hour=10, minute=30))
        first = engine.runtime_state().skip_next_entry
        await engine.run_job(JobName.CONDOR_ENTRY)
        return first, engine.runtime_state().skip_next_entry

    before, after = asyncio.run(two_entries())
    assert before and not after
    assert not commands.runtime_state(journal.engine).skip_next_entry


def test_the_macro_calendar_is_read_again_when_its_file_changes(tmp_path: Path) -> None:
    csv = tmp_path / "events.csv"
    header = "date,event,time_et,status,source\n"
    csv.write_text(header + "2018-01-12,CPI,08:30,confirmed,BLS\n", encoding="utf-8")
    config = AppConfig.model_validate(
        {"logging": {"json_path": str(tmp_path / "r.jsonl")}, "calendar": {"events_csv": str(csv)}}
    )
    system = build_sim_system(
        config, Journal("sqlite://"), date(2018, 1, 8), 0.0, None, False, False
    )
    engine = system.engine
    assert [e.day for e in engine._events()] == [date(2018, 1, 12)]
    csv.write_text(
        header + "2018-01-12,CPI,08:30,confirmed,BLS\n2018-01-31,FOMC,14:00,confirmed,Fed\n",
        encoding="utf-8",
    )
    os.utime(csv, ns=(0, csv.stat().st_mtime_ns + 1_000_000))  # a new stamp on any file system
    assert [e.day for e in engine._events()] == [date(2018, 1, 12), date(2018, 1, 31)]
    csv.unlink()
    with pytest.raises(ConfigError, match=str(csv)):
        engine._events()
