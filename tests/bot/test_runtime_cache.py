"""The engine's runtime state: read every cycle by the daemon, kept by a replay until it changes.

A replay has no command channel, so only its engine writes the runtime state; it keeps the
state between cycles. Commands (`before_job`, `between_jobs`) and the engine's own write
(consuming `skip_next_entry`) make it read the state again.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from bot.clock import VirtualClock
from bot.config import AppConfig
from bot.engine import TradingEngine
from bot.jobs import JobName
from bot.wiring import build_sim_system
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
