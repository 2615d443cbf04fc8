"""A replay keeps its journal in memory and saves it whole: the file is at head and complete;
`alvh replay --report` writes the report of that journal."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import AppConfig
from bot.replay import replay
from storage import schema
from storage.journal import Journal

pytestmark = pytest.mark.usefixtures("restore_root_logging")  # `alvh replay` sets up logging


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


def test_alvh_replay_with_report_writes_the_report_of_its_own_journal(tmp_path: Path) -> None:
    """The command a researcher runs, end to end: replay a quarter (the February 2018 VIX
    spike), then the report is read from that replay's journal."""
    config = tmp_path / "replay.toml"
    config.write_text(f'[logging]\njson_path = "{tmp_path / "r.jsonl"}"\n')
    db, out = tmp_path / "q1.sqlite", tmp_path / "report"
    runner = CliRunner(env={"COLUMNS": "200"})
    result = runner.invoke(
        app,
        ["replay", "--start", "2018-01-02", "--end", "2018-03-29", "--config", str(config),
         "--db", str(db), "--report", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "cycles/s" in result.output

    charts = {"equity_by_engine", "r2_band", "hedge_ratio", "drawdown", "rolls_by_month",
              "biggest_days", "spx_declines", "layer_cost"}  # fmt: skip
    assert {p.name for p in out.iterdir()} == {f"{c}.png" for c in charts} | {
        "summary.md",
        "daily.csv",
    }
    journal = Journal(f"sqlite:///{db}")
    try:
        curve = journal.equity_curve()
        rolls = journal.rolls_between(datetime(2018, 1, 1, tzinfo=UTC), datetime.now(UTC))
    finally:
        journal.dispose()
    days = [day for day, _ in curve]
    assert days[0] == date(2018, 1, 2) and days[-1] == date(2018, 3, 29)
    text = (out / "summary.md").read_text()
    assert text.startswith("# Replay 2018-01-02 to 2018-03-29\n")
    assert f"| equity days | {len(curve)} (2018-01-02 to 2018-03-29) |" in text
    assert f"| end equity (at 2018-03-29) | {curve[-1][1]:,.0f} |" in text
    total = curve[-1][1] - 1_000_000.0  # the new paper account's cash
    assert f"| total P&L | {total:+,.0f} ({total / 1_000_000.0:+.1%}) |" in text
    assert f"## Rolls ({len(rolls)})" in text
    daily = pd.read_csv(out / "daily.csv", index_col="day")
    assert list(daily.index) == [d.isoformat() for d in days]
    np.testing.assert_allclose(daily["net_liquidation"], [nlv for _, nlv in curve])
    for chart in charts:
        assert (out / f"{chart}.png").read_bytes().startswith(b"\x89PNG"), chart
