"""`alvh status` and `alvh status --json` on a journal written by a short simulated run."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from configs import CONDORS_ONLY
from typer.testing import CliRunner

from bot.cli import app
from bot.config import AppConfig
from bot.daemon import run_daemon
from bot.status_report import LAST_COMMANDS, NO_SNAPSHOT_NOTE, R2View, compact_legs, gather_status
from bot.status_view import status_json
from broker.calendar import NY
from broker.contracts import FutureContract, OptionContract, Right
from broker.orders import Leg, Order, OrderState, OrderStatus, Side
from broker.structures import Intent, IntentKind
from storage import commands, daemon_lock, hedge_snapshots
from storage.commands import CommandStatus, CommandVerb
from storage.journal import Journal
from strategies.params import HedgeParams

LAST_DAY = date(2018, 1, 9)  # the run starts Friday 2018-01-05; the condor opens Monday
ORDER_AT = datetime(2018, 1, 9, 15, 0, tzinfo=NY)
TOP_LEVEL_KEYS = {
    "generated_at",
    "journal",
    "daemon",
    "broker",
    "trading",
    "structures",
    "working_orders",
    "hedge",
    "macro_events",
    "commands",
    "account",
    "last_fills",
    "not_journaled",
}
wide = CliRunner(env={"COLUMNS": "200"})
narrow = CliRunner(env={"COLUMNS": "80"})


@dataclass(frozen=True)
class Run:
    folder: Path
    working_ref: str
    command_ids: dict[str, int]

    @property
    def db(self) -> Path:
        return self.folder / "alvh.sqlite"

    def toml(self, folder: Path | None = None) -> Path:
        """Write a config naming the journal in `folder` (the run's own by default)."""
        where = folder or self.folder
        path = where / "status.toml"
        path.write_text(
            f'[database]\nurl = "sqlite:///{where / "alvh.sqlite"}"\n'
            f'[logging]\njson_path = "{where / "alvh.jsonl"}"\n'
        )
        return path

    def copy(self, to: Path) -> Path:
        """Copy the journal into `to` (for tests that add a daemon lock) and return its config."""
        shutil.copy(self.db, to / "alvh.sqlite")
        return self.toml(to)


def answer(db: Journal, verb: CommandVerb, status: CommandStatus, message: str, **args: Any) -> int:
    """Submit a command and answer it as the daemon does, with the runtime state it sets."""
    command_id = commands.submit(db.engine, verb, args, "test")
    if status is CommandStatus.CANCELLED:
        assert commands.cancel(db.engine, command_id)
        return command_id
    if status is CommandStatus.PENDING:
        return command_id
    assert commands.claim(db.engine, command_id)
    runtime: dict[str, Any] = {}
    if status is CommandStatus.APPLIED and verb is CommandVerb.PAUSE:
        runtime = {"paused": True}
    if status is CommandStatus.APPLIED and verb is CommandVerb.SET:
        runtime = {"ratio": args["value"]}
    if status is CommandStatus.APPLIED and verb is CommandVerb.SKIP_ENTRY:
        runtime = {"skip_next_entry": True}
    assert commands.finish(db.engine, command_id, status, message, runtime=runtime)
    return command_id


def add_working_close(journal: Journal) -> str:
    """Journal a close of the run's condor whose order works, partly filled (1 of 2 sent)."""
    [condor] = journal.open_structures()
    legs = tuple(leg.reversed() for leg in condor.legs)
    intent = Intent(
        IntentKind.CLOSE, condor.engine, condor.kind, legs, 2, 3.5, "test close", condor.id
    )
    intent_id = journal.record_intent(intent, ORDER_AT)
    ref = f"alvh-{intent_id}"
    journal.record_order(intent_id, Order(ref, legs, 2, 3.5), ORDER_AT)
    journal.record_order_state(
        OrderState(ref, "77", OrderStatus.PARTIAL, 1, 1, 3.6), ORDER_AT + timedelta(minutes=1)
    )
    return ref


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Three simulated days through the daemon, then commands and a working order journaled."""
    folder = tmp_path_factory.mktemp("status")
    config = AppConfig.model_validate(
        {
            "database": {"url": f"sqlite:///{folder / 'alvh.sqlite'}"},
            "logging": {"json_path": str(folder / "alvh.jsonl")},
            "reports": {"dir": str(folder / "reports"), "enabled": False},
            "sim": {"start": "2018-01-05", "speed": 1e9, "venue_path": str(folder / "v.sqlite")},
            "strategy": CONDORS_ONLY,
        }
    )
    assert asyncio.run(run_daemon(config, until=LAST_DAY)) == 0
    journal = Journal(config.database.url)
    try:
        ids = {
            "pause": answer(journal, CommandVerb.PAUSE, CommandStatus.APPLIED, "paused"),
            "set": answer(
                journal,
                CommandVerb.SET,
                CommandStatus.APPLIED,
                "ratio 2",
                **{"name": "ratio", "value": 2},
            ),
            "close": answer(
                journal,
                CommandVerb.CLOSE,
                CommandStatus.REJECTED,
                "no structure 999",
                structure_id=999,
            ),
            "kill": answer(journal, CommandVerb.KILL, CommandStatus.CANCELLED, ""),
            "skip": answer(journal, CommandVerb.SKIP_ENTRY, CommandStatus.PENDING, ""),
        }
        ref = add_working_close(journal)
    finally:
        journal.dispose()
    return Run(folder, ref, ids)


def status_of(config: Path) -> dict[str, Any]:
    result = wide.invoke(app, ["status", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.output)
    return parsed


@pytest.fixture(scope="module")
def report(run: Run) -> dict[str, Any]:
    return status_of(run.toml())


def et(text: str) -> datetime:
    """Parse an ISO time from the JSON; it must carry New York's offset."""
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == moment.astimezone(NY).utcoffset()
    assert moment.tzinfo is not None
    return moment


# -- JSON against the journal ----------------------------------------------------------------


def test_json_has_the_documented_top_level_keys_and_iso_times_with_offsets(
    report: dict[str, Any],
) -> None:
    assert set(report) == TOP_LEVEL_KEYS
    assert "sqlite:///" in report["journal"]
    assert et(report["generated_at"]).utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))
    assert et(report["structures"][0]["opened_at"]).utcoffset() == timedelta(hours=-5)  # January
    assert et(report["broker"]["last_fill_at"]) <= datetime(2018, 1, 10, tzinfo=NY)


def test_json_structures_match_the_journal(run: Run, report: dict[str, Any]) -> None:
    journal = Journal(f"sqlite:///{run.db}")
    try:
        held, marks = journal.open_structures(), journal.open_marks()
        greeks = journal.open_greeks()
    finally:
        journal.dispose()
    assert held, "the run opened no condor"
    assert [s["id"] for s in report["structures"]] == [s.id for s in held]
    for view, structure in zip(report["structures"], held, strict=True):
        assert view["quantity"] == structure.quantity
        assert view["engine"] == structure.engine.value and view["kind"] == "iron_condor"
        assert view["open_price"] == structure.open_price
        mark, marked_at = marks[structure.id]
        assert view["mark"] == pytest.approx(mark)
        assert et(view["marked_at"]) == marked_at
        assert view["unrealized_pnl"] == pytest.approx(structure.pnl_at(mark), abs=0.01)
        assert view["legs"] == compact_legs(structure.legs)
        assert [d["contract"] for d in view["leg_details"]] == [
            leg.contract.key for leg in structure.legs
        ]
        g = greeks[structure.id]  # journaled with the mark by the management cycles
        assert view["greeks"] == pytest.approx(
            {"delta": g.delta, "gamma": g.gamma, "vega": g.vega, "theta": g.theta},
            rel=1e-3,
            abs=0.01,
        )
        assert view["greeks"]["vega"] < 0 < view["greeks"]["theta"]  # a short condor
    total = sum(s["unrealized_pnl"] for s in report["structures"])
    assert report["account"]["unrealized_pnl"] == pytest.approx(total, abs=0.01)


def test_json_commands_are_the_last_ten_newest_first_with_status_and_message(
    run: Run, report: dict[str, Any]
) -> None:
    ids = run.command_ids
    views = report["commands"]
    assert [c["id"] for c in views] == sorted(ids.values(), reverse=True)
    by_id = {c["id"]: c for c in views}
    assert by_id[ids["pause"]]["status"] == "applied" and by_id[ids["pause"]]["message"] == "paused"
    assert by_id[ids["set"]]["command"] == "set ratio 2"
    assert by_id[ids["close"]]["status"] == "rejected"
    assert by_id[ids["close"]]["message"] == "no structure 999"
    assert by_id[ids["kill"]]["status"] == "cancelled"
    assert by_id[ids["skip"]]["status"] == "pending" and by_id[ids["skip"]]["applied_at"] is None
    assert len(views) <= LAST_COMMANDS


def test_json_trading_state_and_overrides_come_from_runtime_state(report: dict[str, Any]) -> None:
    trading = report["trading"]
    assert trading == {
        "state": "paused",
        "paused": True,
        "killed": False,  # the kill was cancelled
        "skip_next_entry": False,  # the skip-entry is still pending
        "ratio_override": 2,
        "hedge_scale_override": None,
    }
    hedge = report["hedge"]
    assert (hedge["ratio"], hedge["ratio_source"], hedge["ratio_pinned"]) == (2, "override", True)
    assert report["not_journaled"] == ["reconcile runs"]


def test_json_hedge_is_the_runs_last_rebalance_with_its_signals_and_notes(
    run: Run, report: dict[str, Any]
) -> None:
    journal = Journal(f"sqlite:///{run.db}")
    try:
        newest = hedge_snapshots.latest(journal.engine)
        rebalance = hedge_snapshots.latest(journal.engine, "rebalance")
    finally:
        journal.dispose()
    assert newest is not None and newest == rebalance  # Tuesday's 10:30 rebalance came last
    hedge = report["hedge"]
    assert et(hedge["as_of"]) == rebalance.at == datetime(2018, 1, 9, 10, 30, tzinfo=NY)
    assert hedge["as_of_job"] == "rebalance"
    assert (hedge["k"], hedge["k_effective"]) == (rebalance.k, rebalance.k_effective) == (1.0, 1.0)
    assert hedge["hedge_scale"] == rebalance.hedge_scale == 1.0
    assert hedge["signals"] == {
        "day": "2018-01-08",  # the last completed session before Tuesday's 09:40
        "breadth_divergence": False,
        "spx_crossover": rebalance.signals.spx_crossover,
        "vix_rsi": pytest.approx(rebalance.signals.vix_rsi, abs=0.005),
        "rsi_episode": "",
        "rsi_episode_start": None,
    }
    assert hedge["r2"]["value"] is None and hedge["r2"]["position"] is None  # too few sessions
    last = hedge["last_rebalance"]
    assert et(last["at"]) == rebalance.at
    assert last["notes"] == rebalance.notes.split("; ")
    assert "R2 unknown: k kept at 1.000 -> k 1.000" in last["notes"]
    assert last["condor_scenario_pnl"] == pytest.approx(rebalance.condor_scenario_pnl, abs=0.005)
    assert last["condor_scenario_pnl"] < 0 and last["layer_scenario_pnl"] == 0.0  # no VIX layer
    assert last["layer_cost_year"] == 0.0


def test_the_configs_hedge_params_give_r2s_band_and_the_budget_on_the_last_close(run: Run) -> None:
    journal = Journal(f"sqlite:///{run.db}")
    params = HedgeParams(r2_low=0.4, r2_high=0.6, budget_pct=0.05)
    try:
        with_params = gather_status(journal, hedge_params=params)
        without = gather_status(journal)
        [last_close] = journal.last_equity_days(1)
    finally:
        journal.dispose()
    assert with_params.hedge.r2 == R2View(None, 0.4, 0.6, None)
    budget = with_params.hedge.budget
    assert budget is not None and budget.net_liquidation_day == LAST_DAY
    assert budget.net_liquidation == pytest.approx(last_close.net_liquidation, abs=0.005)
    assert budget.limit == pytest.approx(0.05 * last_close.net_liquidation, abs=0.01)
    assert budget.layer_cost_year == 0.0 and budget.left == budget.limit
    assert without.hedge.budget is None and without.hedge.r2 == R2View(None, None, None, None)
    assert "strategy.hedge" in without.hedge.note and "strategy.hedge" not in with_params.hedge.note


def test_json_working_order_and_broker_times(run: Run, report: dict[str, Any]) -> None:
    [order] = report["working_orders"]
    assert order["ref"] == run.working_ref
    assert order["intent_id"] == int(run.working_ref.removeprefix("alvh-"))
    assert (
        order["intent_kind"] == "close" and order["structure_id"] == report["structures"][0]["id"]
    )
    assert (order["status"], order["filled"], order["remaining"]) == ("partial", 1, 1)
    assert order["limit_price"] == 3.6 and et(order["since"]) == ORDER_AT
    broker = report["broker"]
    assert broker["connection"] is None and "no running daemon" in broker["note"]
    assert et(broker["last_order_update_at"]) == ORDER_AT + timedelta(minutes=1)


def test_json_account_is_the_last_equity_row(run: Run, report: dict[str, Any]) -> None:
    journal = Journal(f"sqlite:///{run.db}")
    try:
        days = journal.equity_days(LAST_DAY)
        realized = journal.realized_pnl()
    finally:
        journal.dispose()
    last, previous = days[-1], days[-2]
    equity = report["account"]["equity"]
    assert equity["day"] == last.day.isoformat() == LAST_DAY.isoformat()
    assert equity["net_liquidation"] == pytest.approx(last.net_liquidation, abs=0.005)
    assert equity["cash"] == pytest.approx(last.cash, abs=0.005)
    assert equity["maintenance_margin"] == pytest.approx(last.maintenance_margin, abs=0.005)
    expected_day_pnl = last.net_liquidation - previous.net_liquidation
    assert equity["day_pnl"] == pytest.approx(expected_day_pnl, abs=0.01)
    assert report["account"]["realized_pnl"] == pytest.approx(realized, abs=0.005)


def test_json_macro_events_start_from_the_journals_last_day(report: dict[str, Any]) -> None:
    macro = report["macro_events"]
    assert macro["clock"] == "journal" and macro["from_day"] == LAST_DAY.isoformat()
    days = [date.fromisoformat(e["day"]) for e in macro["events"]]
    assert len(days) == 5 and days == sorted(days) and days[0] >= LAST_DAY
    assert days[0] == date(2018, 1, 12)  # the CPI after 2018-01-09


def test_json_daemon_not_running(report: dict[str, Any]) -> None:
    daemon = report["daemon"]
    assert daemon["state"] == "not running" and daemon["summary"] == "daemon not running"
    assert daemon["pid"] is None and daemon["heartbeat_age_seconds"] is None
    assert report["broker"]["last_heartbeat_at"] is None


def test_a_running_and_a_stale_daemon(run: Run, tmp_path: Path) -> None:
    config = run.copy(tmp_path)
    journal = Journal(f"sqlite:///{tmp_path / 'alvh.sqlite'}")
    try:
        holder = daemon_lock.acquire(journal.engine, pid=4242, host="other-host").holder
        running = status_of(config)["daemon"]
        assert running["state"] == "running" and running["pid"] == 4242
        assert running["host"] == "other-host" and running["stale_reason"] is None
        assert 0 <= running["heartbeat_age_seconds"] < 60
        assert et(running["heartbeat_at"]) == holder.heartbeat_at
        assert status_of(config)["broker"]["last_heartbeat_at"] == running["heartbeat_at"]
        old = datetime.now(UTC) - timedelta(minutes=10)
        assert daemon_lock.heartbeat(journal.engine, holder, now=old)
        stale = status_of(config)["daemon"]
        assert stale["state"] == "stale" and "10 min ago" in stale["stale_reason"]
        assert stale["summary"].startswith("daemon not running (a stale lock names pid 4242")
        result = narrow.invoke(app, ["status", "--config", str(config)])
        assert result.exit_code == 0 and "a stale lock names pid 4242" in result.output
    finally:
        journal.dispose()


# -- the rich view at 80 columns -------------------------------------------------------------


def test_rich_output_fits_80_columns_and_shows_every_structure(
    run: Run, report: dict[str, Any]
) -> None:
    result = narrow.invoke(app, ["status", "--config", str(run.toml())])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    too_long = [line for line in lines if len(line) > 80]
    assert not too_long, too_long
    assert report["structures"]
    for view in report["structures"]:
        row = re.compile(rf"^\s*{view['id']}\s+iron_condor x{view['quantity']} SPXW\s")
        assert any(row.match(line) for line in lines), view["id"]
        assert view["legs"] in result.output
        assert f"{view['unrealized_pnl']:+,.0f}" in result.output
    assert "daemon not running" in result.output
    assert run.working_ref in result.output and "partial" in result.output
    assert "condor greeks at the marks: delta" in " ".join(result.output.split())
    assert "set ratio 2" in result.output and "no structure 999" in result.output
    assert "2 (override)" in result.output and "paused" in result.output
    hedge = " ".join(result.output.split("Hedge: k, ratio, signals", 1)[1].split())
    assert "as of 2018-01-09 10:30 ET, rebalance job" in hedge
    assert "k 1.000, effective 1.000" in hedge
    assert "ratio 1:2 (pinned by an override (alvh set ratio))" in hedge
    assert "signals of session 2018-01-08" in hedge and "SPX MACD no crossover" in hedge
    assert "R2 unknown (too few sessions)" in hedge
    assert "no SPX MACD crossover -> ratio 1:2" in hedge
    assert f"condor {report['hedge']['last_rebalance']['condor_scenario_pnl']:+,.0f}" in hedge


# -- gathering on an empty journal, and pieces --------------------------------------------


def test_an_empty_journal_gathers_defaults_and_events_from_today(tmp_path: Path) -> None:
    journal = Journal.in_memory()
    now = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
    try:
        report = gather_status(journal, now=now, broker="ib", journal_label="mem")
        missing = gather_status(journal, now=now, macro_events_csv=tmp_path / "none.csv")
    finally:
        journal.dispose()
    assert report.structures == () and report.working_orders == () and report.commands == ()
    assert report.account.equity is None and report.account.fills == 0
    assert report.trading.state == "active" and report.daemon.state == "not running"
    assert report.macro_events.clock == "wall clock"
    assert report.macro_events.from_day == date(2026, 3, 1)
    assert all(e.day >= date(2026, 3, 1) for e in report.macro_events.events)
    assert report.not_journaled == ("reconcile runs",)
    hedge = report.hedge
    assert (hedge.as_of, hedge.k, hedge.ratio, hedge.signals, hedge.last_rebalance) == (None,) * 5
    assert hedge.note == NO_SNAPSHOT_NOTE and hedge.ratio_pinned is False
    assert missing.macro_events.events == () and "cannot read" in (
        missing.macro_events.problem or ""
    )
    parsed = json.loads(status_json(report))
    assert set(parsed) == TOP_LEVEL_KEYS and parsed["account"]["equity"] is None
    assert parsed["hedge"]["k"] is None and parsed["hedge"]["budget"] is None


def test_killed_outranks_paused(tmp_path: Path) -> None:
    journal = Journal.in_memory()
    try:
        commands.set_runtime(journal.engine, {"paused": True, "killed": True, "hedge_scale": 1.5})
        report = gather_status(journal, now=datetime(2026, 3, 1, tzinfo=UTC))
    finally:
        journal.dispose()
    assert report.trading.state == "killed" and report.trading.hedge_scale_override == 1.5


def spxw(expiry: date, right: Right, strike: float, klass: str = "SPXW") -> OptionContract:
    return OptionContract("SPX", klass, expiry, strike, right)


def test_compact_legs_of_an_iron_condor_read_like_the_trader_writes_them() -> None:
    expiry = date(2018, 2, 23)
    legs = (
        Leg(spxw(expiry, Right.PUT, 2630), Side.SELL),
        Leg(spxw(expiry, Right.PUT, 2490), Side.BUY),
        Leg(spxw(expiry, Right.CALL, 2795), Side.SELL),
        Leg(spxw(expiry, Right.CALL, 2840), Side.BUY),
    )
    assert compact_legs(legs) == "-P2630 +P2490 -C2795 +C2840 2018-02-23"
    assert compact_legs(()) == ""


def test_compact_legs_with_ratios_expiries_classes_and_futures() -> None:
    near, far = date(2018, 3, 21), date(2018, 4, 18)
    vix = OptionContract("VIX", "VIX", near, 20.5, Right.CALL)
    backspread = (
        Leg(vix, Side.SELL),
        Leg(OptionContract("VIX", "VIX", near, 25, Right.CALL), Side.BUY, 2),
    )
    assert compact_legs(backspread) == "-C20.5 +2C25 2018-03-21"
    calendar = (
        Leg(spxw(near, Right.PUT, 2500), Side.SELL),
        Leg(spxw(far, Right.PUT, 2500), Side.BUY),
    )
    assert compact_legs(calendar) == "-P2500 2018-03-21 +P2500 2018-04-18"
    mixed = (
        Leg(spxw(near, Right.PUT, 2500, "SPX"), Side.SELL),
        Leg(spxw(near, Right.PUT, 2400), Side.BUY),
    )
    assert compact_legs(mixed) == "SPX -P2500 SPXW +P2400 2018-03-21"
    rung = (Leg(FutureContract("VIX", "VX", near), Side.BUY, 3),)
    assert compact_legs(rung) == "+3FUT 2018-03-21"
