"""`alvh status`'s hedge section from journaled hedge snapshots (in-memory journals)."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from rich.console import Console

from bot.status_report import StatusReport, gather_status, r2_band_position
from bot.status_view import render_status, status_json
from broker.account import AccountSnapshot
from broker.calendar import NY
from storage import commands, hedge_snapshots
from storage.hedge_snapshots import HedgeSnapshot
from storage.journal import Journal
from strategies.hedge_state import Signals
from strategies.params import HedgeParams

NOW = datetime(2018, 3, 6, 17, 0, tzinfo=UTC)
MON, TUE = date(2018, 3, 5), date(2018, 3, 6)
PARAMS = HedgeParams(r2_low=0.45, r2_high=0.65, budget_pct=0.03)


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def signals(day: date, **changes: Any) -> Signals:
    values: dict[str, Any] = {
        "day": day,
        "breadth_divergence": True,
        "spx_crossover": -1,
        "vix_rsi": 28.4,
        "rsi_episode": "low",
        "rsi_episode_start": date(2018, 2, 27),
        "r2": 0.72,
    }
    return Signals(**(values | changes))


REBALANCE = HedgeSnapshot(
    ny(MON, 10, 30),
    MON,
    "rebalance",
    signals(date(2018, 3, 2)),
    k=1.1,
    k_effective=1.32,
    ratio=3,
    hedge_scale=1.0,
    condor_scenario_pnl=-4_210.456,
    layer_scenario_pnl=3_100.0,
    layer_cost_year=12_500.0,
    notes="R2 0.72 above the band 0.45-0.65: k 1.000 raised 10% -> k 1.100; "
    "bearish SPX MACD crossover: one more long call -> ratio 1:3",
)
SIGNALS = HedgeSnapshot(
    ny(TUE, 9, 40),
    TUE,
    "signals",
    signals(MON, breadth_divergence=False, spx_crossover=0, r2=0.5, rsi_episode=""),
    k=1.1,
    k_effective=1.1,
    ratio=3,
    hedge_scale=1.0,
    layer_cost_year=0.0,  # the signals job does not compute the year's cost
)


@pytest.fixture
def journal() -> Iterator[Journal]:
    journal = Journal.in_memory()
    journal.record_equity(MON, AccountSnapshot("DU1", ny(MON, 16, 20), 1_000_000.0, 0.0, 0.0))
    yield journal
    journal.dispose()


def record(journal: Journal, *rows: HedgeSnapshot) -> None:
    for row in rows:
        hedge_snapshots.record(journal.engine, row)


def rich_text(report: StatusReport) -> str:
    console = Console(file=io.StringIO(), width=80, color_system=None)
    render_status(report, console)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    too_long = [line for line in output.splitlines() if len(line) > 80]
    assert not too_long, too_long
    return output


def hedge_section(output: str) -> str:
    body = output.split("Hedge: k, ratio, signals", 1)[1].split("Next macro events", 1)[0]
    return " ".join(body.split())


def test_a_rebalance_gives_k_the_ratio_the_signals_r2_above_the_band_and_the_budget(
    journal: Journal,
) -> None:
    record(journal, REBALANCE)
    hedge = json.loads(status_json(gather_status(journal, now=NOW, hedge_params=PARAMS)))["hedge"]
    assert datetime.fromisoformat(hedge["as_of"]) == REBALANCE.at
    assert hedge["as_of_job"] == "rebalance"
    assert (hedge["k"], hedge["k_effective"], hedge["hedge_scale"]) == (1.1, 1.32, 1.0)
    assert (hedge["ratio"], hedge["ratio_source"], hedge["ratio_pinned"]) == (3, "snapshot", False)
    assert hedge["signals"] == {
        "day": "2018-03-02",
        "breadth_divergence": True,
        "spx_crossover": -1,
        "vix_rsi": 28.4,
        "rsi_episode": "low",
        "rsi_episode_start": "2018-02-27",
    }
    assert hedge["r2"] == {"value": 0.72, "band_low": 0.45, "band_high": 0.65, "position": "above"}
    assert hedge["last_rebalance"] == {
        "at": REBALANCE.at.isoformat(),
        "notes": [
            "R2 0.72 above the band 0.45-0.65: k 1.000 raised 10% -> k 1.100",
            "bearish SPX MACD crossover: one more long call -> ratio 1:3",
        ],
        "condor_scenario_pnl": -4_210.46,
        "layer_scenario_pnl": 3_100.0,
        "layer_cost_year": 12_500.0,
    }
    assert hedge["budget"] == {
        "budget_pct": 0.03,
        "net_liquidation": 1_000_000.0,
        "net_liquidation_day": "2018-03-05",
        "limit": 30_000.0,
        "layer_cost_year": 12_500.0,
        "left": 17_500.0,
    }


def test_the_rich_hedge_section_reads_in_80_columns(journal: Journal) -> None:
    record(journal, REBALANCE)
    text = hedge_section(rich_text(gather_status(journal, now=NOW, hedge_params=PARAMS)))
    for expected in (
        "as of 2018-03-05 10:30 ET, rebalance job",
        "k 1.100, effective 1.320",
        "ratio 1:3 (no override)",
        "R2 0.72, above the band 0.45-0.65",
        "signals of session 2018-03-02",
        "breadth divergence (k scaled)",
        "SPX MACD bearish crossover (-1)",
        "VIX RSI 28.4, low episode since 2018-02-27",
        "rebalance 2018-03-05 10:30 ET",
        "k 1.000 raised 10% -> k 1.100",
        "scenario P&L condor -4,210, VIX layer +3,100",
        "12,500 over the year of a 30,000 budget (3.0% of net liq. 1,000,000 on 2018-03-05); "
        "17,500 left",
    ):
        assert expected in text, expected


def test_signals_come_from_the_newest_snapshot_and_the_rebalance_figures_from_the_last_one(
    journal: Journal,
) -> None:
    record(journal, REBALANCE, SIGNALS)
    hedge = gather_status(journal, now=NOW, hedge_params=PARAMS).hedge
    assert (hedge.as_of, hedge.as_of_job) == (SIGNALS.at, "signals")
    assert hedge.signals is not None and hedge.signals.day == MON
    assert hedge.signals.spx_crossover == 0 and hedge.signals.rsi_episode == ""
    assert hedge.r2 is not None and hedge.r2.position == "inside"
    assert hedge.last_rebalance is not None and hedge.last_rebalance.at == REBALANCE.at
    assert hedge.budget is not None and hedge.budget.layer_cost_year == 12_500.0  # not 0.0
    text = hedge_section(rich_text(gather_status(journal, now=NOW, hedge_params=PARAMS)))
    assert "SPX MACD no crossover" in text and "VIX RSI 28.4, no RSI episode" in text


def test_an_override_set_after_the_snapshot_pins_the_ratio_and_the_scale(journal: Journal) -> None:
    record(journal, REBALANCE)
    commands.set_runtime(journal.engine, {"ratio": 4, "hedge_scale": 1.5})
    report = gather_status(journal, now=NOW, hedge_params=PARAMS)
    hedge = report.hedge
    assert (hedge.ratio, hedge.ratio_source, hedge.ratio_pinned) == (4, "override", True)
    assert hedge.hedge_scale == 1.5 and hedge.k_effective == 1.32  # k as of the snapshot
    text = hedge_section(rich_text(report))
    assert "ratio 1:4 (pinned by an override (alvh set ratio))" in text
    assert "hedge scale 1.5 (override)" in text


def test_only_a_signals_snapshot_has_no_rebalance_and_no_budget(journal: Journal) -> None:
    record(journal, SIGNALS)
    hedge = gather_status(journal, now=NOW, hedge_params=PARAMS).hedge
    assert hedge.k == 1.1 and hedge.last_rebalance is None and hedge.budget is None
    assert "no rebalance journaled yet" in hedge.note
    text = hedge_section(rich_text(gather_status(journal, now=NOW, hedge_params=PARAMS)))
    assert "rebalance none journaled yet (10:30)" in text


def test_unknown_r2_and_rsi_are_null_and_say_unknown(journal: Journal) -> None:
    unknown = signals(MON, r2=math.nan, vix_rsi=math.nan, rsi_episode="")
    record(journal, HedgeSnapshot(ny(TUE, 9, 40), TUE, "signals", unknown, 1.0, 1.2, 2, 1.0))
    report = gather_status(journal, now=NOW, hedge_params=PARAMS)
    parsed = json.loads(status_json(report))["hedge"]
    assert parsed["r2"] == {"value": None, "band_low": 0.45, "band_high": 0.65, "position": None}
    assert parsed["signals"]["vix_rsi"] is None
    text = hedge_section(rich_text(report))
    assert "R2 unknown (too few sessions), band 0.45-0.65" in text
    assert "VIX RSI unknown, no RSI episode" in text


def test_without_a_snapshot_the_section_says_so_and_shows_an_override(journal: Journal) -> None:
    commands.set_runtime(journal.engine, {"ratio": 2})
    report = gather_status(journal, now=NOW, hedge_params=PARAMS)
    parsed = json.loads(status_json(report))["hedge"]
    assert parsed["k"] is None and parsed["signals"] is None and parsed["r2"] is None
    assert (parsed["ratio"], parsed["ratio_source"], parsed["ratio_pinned"]) == (
        2,
        "override",
        True,
    )
    assert parsed["budget"] is None and parsed["as_of"] is None
    text = hedge_section(rich_text(report))
    assert "no hedge snapshot journaled yet" in text and "ratio 1:2 (pinned" in text
    assert "rebalance" not in text


def test_a_hedge_snapshot_sets_the_simulators_market_day_for_macro_events() -> None:
    journal = Journal.in_memory()
    try:
        record(journal, SIGNALS)  # nothing else journaled: the snapshot is the engine's only trace
        report = gather_status(journal, now=datetime(2026, 1, 1, tzinfo=UTC))
    finally:
        journal.dispose()
    assert (report.macro_events.clock, report.macro_events.from_day) == ("journal", TUE)


@pytest.mark.parametrize(
    ("r2", "position"),
    [
        (0.45, "inside"),
        (0.65, "inside"),
        (0.5, "inside"),
        (0.4499, "below"),
        (0.6501, "above"),
        (0.0, "below"),
        (1.0, "above"),
        (math.nan, None),
    ],
)
def test_r2_band_position_counts_the_edges_inside(r2: float, position: str | None) -> None:
    assert r2_band_position(r2, 0.45, 0.65) == position
