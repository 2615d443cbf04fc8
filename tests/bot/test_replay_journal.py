"""A replay keeps its journal in memory and saves it whole: the file is at head and complete."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from bot.config import AppConfig
from bot.replay import replay
from storage import schema
from storage.journal import Journal


def test_the_saved_replay_journal_is_at_head_and_holds_every_fill(tmp_path: Path) -> None:
    config = AppConfig.model_validate({"logging": {"json_path": str(tmp_path / "r.jsonl")}})
    path = tmp_path / "replay.sqlite"
    path.write_text("an older replay's file is replaced")
    summary = asyncio.run(replay(config, date(2018, 1, 8), date(2018, 1, 10), path))
    url = f"sqlite:///{path}"
    assert schema.current_revision(url) == schema.head_revision()
    journal = Journal(url)  # opens: not refused as out of date
    try:
        assert summary.fills > 0 and journal.fill_count() == summary.fills
        assert len(journal.equity_curve()) == summary.days == 3
    finally:
        journal.dispose()
