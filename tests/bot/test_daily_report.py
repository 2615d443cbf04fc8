"""The daily fill and roll log: the daemon writes reports/YYYY-MM-DD/ at the close, `alvh report`
rebuilds it from the journal, replay writes it only with --daily-logs."""

from __future__ import annotations

import asyncio
import csv
import io
import struct
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from configs import CONDORS_ONLY
from sqlmodel import Session, select
from structlog.testing import capture_logs
from typer.testing import CliRunner

from bot.cli import app
from bot.config import AppConfig
from bot.daemon import run_daemon
from bot.daily_report import (
    FILLS_COLUMNS,
    ROLLS_COLUMNS,
    commands_answered_between,
    day_bounds,
    gather_day_log,
    hedge_snapshot_of_day,
    summary_markdown,
    upcoming_macro_events,
    with_daily_logs,
    write_atomically,
    write_day_log,
    write_day_log_safely,
)
from bot.day_log_child import DayLogRequest, write_day_log_in_child
from bot.replay import replay
from broker.account import AccountSnapshot
from broker.calendar import NY
from broker.contracts import OptionContract, Right
from broker.orders import Fill, Leg, Side, order_ref
from broker.structures import Engine, Intent, IntentKind, StructureKind
from storage import commands, hedge_snapshots
from storage.commands import CommandStatus, CommandVerb
from storage.hedge_snapshots import HedgeSnapshot
from storage.journal import Journal
from storage.tables import EquityRow
from strategies.hedge_state import Signals
from strategies.signals.macro_calendar import parse_macro_events

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner(env={"COLUMNS": "200"})
FILES = {"fills.csv", "rolls.csv", "summary.md", "equity.png"}
DAYS = (date(2018, 1, 5), date(2018, 1, 8), date(2018, 1, 9))  # Fri, Mon (condor entry), Tue
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def config_for(tmp: Path, **reports: object) -> AppConfig:
    return AppConfig.model_validate(
        {
            "database": {"url": f"sqlite:///{tmp / 'alvh.sqlite'}"},
            "logging": {"json_path": str(tmp / "alvh.jsonl")},
            "sim": {"start": "2018-01-05", "speed": 1e9, "venue_path": str(tmp / "venue.sqlite")},
            "reports": {"dir": str(tmp / "reports"), **reports},
            "strategy": CONDORS_ONLY,
        }
    )


def toml_for(tmp: Path) -> Path:
    path = tmp / "test.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp / "alvh.sqlite"}"\n'
        f'[logging]\njson_path = "{tmp / "alvh.jsonl"}"\n'
        f'[sim]\nstart = 2018-01-05\nspeed = 1e9\nvenue_path = "{tmp / "venue.sqlite"}"\n'
        f'[reports]\ndir = "{tmp / "reports"}"\n'
        "[strategy.vix]\nenabled = false\n"
    )
    return path


@dataclass(frozen=True)
class Run:
    tmp: Path
    config: AppConfig
    toml: Path
    logs: tuple[MutableMapping[str, Any], ...] = ()

    @property
    def reports(self) -> Path:
        return self.tmp / "reports"

    def journal(self) -> Journal:
        return Journal(self.config.database.url)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Three simulated days through the daemon, writing their logs at each 16:20 close."""
    tmp = tmp_path_factory.mktemp("daily")
    config = config_for(tmp)
    with capture_logs() as logs:
        assert asyncio.run(run_daemon(config, until=DAYS[-1])) == 0
    return Run(tmp, config, toml_for(tmp), tuple(logs))


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def table_value(summary: str, label: str) -> str:
    """Return the value cell of the two-column summary row whose label starts with `label`."""
    for line in summary.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith(label):
            return cells[1]
    raise AssertionError(f"no row {label!r} in the summary")


def journal_fills_on(journal: Journal, day: date) -> list[Fill]:
    return [f for f in journal.last_fills(100_000) if f.time.astimezone(NY).date() == day]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# the daemon's folders


def test_each_trading_day_gets_a_folder_with_the_four_files_and_nothing_else(run: Run) -> None:
    assert sorted(p.name for p in run.reports.iterdir()) == [d.isoformat() for d in DAYS]
    for day in DAYS:
        folder = run.reports / day.isoformat()
        assert {p.name for p in folder.iterdir()} == FILES  # no temporary file left behind


def test_the_daemon_logs_each_days_log_as_written_by_its_child_process(run: Run) -> None:
    written = [e for e in run.logs if e["event"] == "daily log written"]
    journal = run.journal()
    try:
        expected = [
            {
                "day": day.isoformat(),
                "folder": str(run.reports / day.isoformat()),
                "fills": len(journal_fills_on(journal, day)),
                "intents": len(journal.intents_between(*day_bounds(day))),
            }
            for day in DAYS
        ]
    finally:
        journal.dispose()
    assert [{k: e[k] for k in ("day", "folder", "fills", "intents")} for e in written] == expected
    assert expected[1]["fills"] == 4  # the Monday condor's legs
    assert not [e for e in run.logs if e["event"] == "daily log not written"]


def test_fills_csv_has_the_columns_and_one_row_per_journaled_fill_of_the_day(run: Run) -> None:
    journal = run.journal()
    total = 0
    for day in DAYS:
        header, rows = read_csv(run.reports / day.isoformat() / "fills.csv")
        assert tuple(header) == FILLS_COLUMNS
        fills = journal_fills_on(journal, day)
        assert len(rows) == len(fills)
        assert {r["exec_id"] for r in rows} == {f.exec_id for f in fills}
        total += len(rows)
    assert total == journal.fill_count() == 4  # the Monday condor, four legs


def test_a_fill_row_carries_the_journals_values_and_links(run: Run) -> None:
    journal = run.journal()
    _, rows = read_csv(run.reports / "2018-01-08" / "fills.csv")
    by_exec = {f.exec_id: f for f in journal_fills_on(journal, date(2018, 1, 8))}
    [condor] = journal.open_structures()
    for row in rows:
        fill = by_exec[row["exec_id"]]
        assert isinstance(fill.contract, OptionContract)
        assert datetime.fromisoformat(row["time_et"]) == fill.time
        assert row["time_et"].endswith("-05:00")  # shown in New York time
        assert row["order_ref"] == fill.order_ref == order_ref(int(row["intent_id"]))
        assert int(row["structure_id"]) == condor.id
        assert row["engine"] == "condor"
        assert row["contract"] == fill.contract.key
        assert float(row["strike"]) == fill.contract.strike
        assert row["right"] == fill.contract.right.value
        assert (row["side"], int(row["quantity"])) == (fill.side.value, fill.quantity)
        assert (float(row["price"]), float(row["commission"])) == (fill.price, fill.commission)
    assert [(r["time_et"], r["exec_id"]) for r in rows] == sorted(
        (r["time_et"], r["exec_id"]) for r in rows
    )


def test_rolls_csv_has_the_planned_header_and_no_rows_until_rolls_are_journaled(run: Run) -> None:
    for day in DAYS:
        header, rows = read_csv(run.reports / day.isoformat() / "rolls.csv")
        assert tuple(header) == ROLLS_COLUMNS
        assert rows == []


def test_summary_numbers_equal_the_journals_equity_rows(run: Run) -> None:
    journal = run.journal()
    with Session(journal.engine) as session:
        equity = {r.day: r for r in session.exec(select(EquityRow)).all()}
    assert sorted(equity) == list(DAYS)
    for previous, day in zip((None, *DAYS), DAYS, strict=False):
        summary = (run.reports / day.isoformat() / "summary.md").read_text()
        row = equity[day]
        assert table_value(summary, "net liquidation") == f"{row.net_liquidation:,.2f}"
        assert table_value(summary, "cash") == f"{row.cash:,.2f}"
        assert table_value(summary, "maintenance margin") == f"{row.maintenance_margin:,.2f}"
        day_pnl = table_value(summary, "day P&L")
        if previous is None:
            assert day_pnl.startswith("n/a")
        else:
            change = row.net_liquidation - equity[previous].net_liquidation
            assert day_pnl == f"{change:+,.2f}"


def test_summary_lists_the_condor_with_its_mark_and_the_days_intent(run: Run) -> None:
    journal = run.journal()
    [condor] = journal.open_structures()
    summary = (run.reports / "2018-01-08" / "summary.md").read_text()
    assert "### condor (1)" in summary and "### vix (0)" in summary
    [line] = [x for x in summary.splitlines() if x.startswith(f"| {condor.id} | iron_condor")]
    assert all(leg.contract.key in line for leg in condor.legs)
    assert "4 fills" in summary and "1 intents" in summary
    intent = journal.intent(journal.open_intent_id(condor.id))
    assert intent.reason in summary
    assert table_value(summary, "unrealized, held structures with a mark (1 of 1)") != "+0.00"
    friday = (run.reports / "2018-01-05" / "summary.md").read_text()
    assert "### condor (0)" in friday and "0 fills" in friday


def section(summary: str, title: str) -> str:
    """Return the body of the `## title` section of a summary."""
    return summary.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_summary_shows_the_days_rebalance_and_no_commands_and_the_next_macro_events(
    run: Run,
) -> None:
    summary = (run.reports / "2018-01-09" / "summary.md").read_text()
    rebalance = hedge_snapshots.latest(run.journal().engine, "rebalance")
    assert rebalance is not None and rebalance.day == date(2018, 1, 9)
    hedge = section(summary, "R2, k, ratio and signals")
    assert hedge.strip().startswith("From the rebalance job at 2018-01-09 10:30:00.")
    assert table_value(hedge, "R2") == "unknown"  # three sessions: too few for R2
    assert table_value(hedge, "k") == f"{rebalance.k:.3f}" == "1.000"
    assert table_value(hedge, "backspread ratio") == f"1:{rebalance.ratio}"
    assert table_value(hedge, "signals as of the session") == "2018-01-08"
    assert table_value(hedge, "VIX RSI") == f"{rebalance.signals.vix_rsi:.1f}"
    assert table_value(hedge, "condor scenario P&L") == f"{rebalance.condor_scenario_pnl:+,.2f}"
    assert "- R2 unknown: k kept at 1.000 -> k 1.000\n" in hedge
    assert "- no SPX MACD crossover -> ratio 1:2\n" in hedge
    assert section(summary, "Commands applied (0)").strip().endswith("\n\nnone")
    friday = (run.reports / "2018-01-05" / "summary.md").read_text()
    assert "From the rebalance job at 2018-01-05 10:30:00." in friday
    greeks = summary.split("\n## Greeks\n", 1)[1].split("\n## ", 1)[0]
    assert "| id | engine | delta | gamma | vega $/vol pt | theta $/day |" in greeks
    assert "| total |" in greeks
    events = parse_macro_events((ROOT / "config" / "macro_events.csv").read_text())
    upcoming = sorted(e for e in ((e.day, e.kind) for e in events) if e[0] > date(2018, 1, 9))
    first_day, first_kind = upcoming[0]
    assert f"| {first_day.isoformat()} | {first_day:%a} | {first_kind} |" in summary


def test_equity_png_is_a_png_of_sensible_size(run: Run) -> None:
    for day in DAYS:
        data = (run.reports / day.isoformat() / "equity.png").read_bytes()
        assert png_size(data) == (900, 450)
        assert 10_000 < len(data) < 500_000


# alvh report


def rebuild(run: Run, day: str, out: Path) -> str:
    result = runner.invoke(
        app, ["report", "--date", day, "--config", str(run.toml), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("day", ["2018-01-05", "2018-01-08", "2018-01-09"])
def test_alvh_report_rebuilds_a_day_byte_identically(run: Run, day: str, tmp_path: Path) -> None:
    output = rebuild(run, day, tmp_path)
    assert str(tmp_path / day) in output
    original, rebuilt = run.reports / day, tmp_path / day
    for name in ("fills.csv", "rolls.csv", "summary.md"):
        assert (rebuilt / name).read_bytes() == (original / name).read_bytes(), name
    png, png_again = (original / "equity.png").read_bytes(), (rebuilt / "equity.png").read_bytes()
    assert png_size(png_again) == png_size(png)
    assert abs(len(png_again) - len(png)) <= 0.05 * len(png)
    assert {p.name for p in rebuilt.iterdir()} == FILES


def test_alvh_report_for_a_day_without_equity_or_fills_says_so(run: Run, tmp_path: Path) -> None:
    output = rebuild(run, "2018-01-06", tmp_path)  # a Saturday
    assert "no equity row journaled" in output
    folder = tmp_path / "2018-01-06"
    assert {p.name for p in folder.iterdir()} == FILES
    summary = (folder / "summary.md").read_text()
    assert "No equity row is journaled for 2018-01-06" in summary
    assert read_csv(folder / "fills.csv") == (list(FILLS_COLUMNS), [])
    assert png_size((folder / "equity.png").read_bytes()) == (900, 450)


def test_alvh_report_writes_into_the_configs_reports_dir_by_default(run: Run) -> None:
    result = runner.invoke(app, ["report", "--date", "2018-01-09", "--config", str(run.toml)])
    assert result.exit_code == 0, result.output
    assert str(run.reports / "2018-01-09") in result.output


@pytest.mark.parametrize("bad", ["2018-02-30", "09/01/2018", "yesterday"])
def test_alvh_report_with_a_bad_date_is_a_clear_error(run: Run, bad: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["report", "--date", bad, "--config", str(run.toml), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "is not a date (expected YYYY-MM-DD)" in result.output
    assert list(tmp_path.iterdir()) == []


def test_rewriting_a_day_is_idempotent(run: Run, tmp_path: Path) -> None:
    journal = run.journal()
    write_day_log(journal, date(2018, 1, 9), tmp_path)
    first = {p.name: p.read_bytes() for p in (tmp_path / "2018-01-09").iterdir()}
    written = write_day_log(journal, date(2018, 1, 9), tmp_path)
    again = {p.name: p.read_bytes() for p in written.folder.iterdir()}
    assert again == first and set(again) == FILES


# atomic writing and failures


def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "summary.md"
    target.write_text("the old report\n")

    def half_then_crash(handle: BinaryIO) -> None:
        handle.write(b"the new rep")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, half_then_crash)
    assert target.read_text() == "the old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]
    write_atomically(target, lambda handle: handle.write(b"the new report\n"))
    assert target.read_text() == "the new report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_report_that_cannot_be_written_is_logged_and_does_not_raise(tmp_path: Path) -> None:
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the reports folder should be")
    with capture_logs() as logs:
        assert write_day_log_safely(Journal.in_memory(), date(2018, 1, 5), blocker) is None
    [event] = [e for e in logs if e["event"] == "daily log not written"]
    assert event["log_level"] == "error" and event["day"] == "2018-01-05"


async def test_the_daemon_keeps_trading_when_its_report_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    config = config_for(tmp_path, dir=str(blocker))
    with capture_logs() as logs:
        assert await run_daemon(config, until=date(2018, 1, 5)) == 0
    assert any(e["event"] == "daily log not written" for e in logs)
    journal = Journal(config.database.url)
    assert [day for day, _ in journal.equity_curve()] == [date(2018, 1, 5)]


async def test_the_daemon_writes_no_report_when_reports_are_disabled(tmp_path: Path) -> None:
    config = config_for(tmp_path, enabled=False)
    assert await run_daemon(config, until=date(2018, 1, 5)) == 0
    assert not (tmp_path / "reports").exists()


# replay


async def test_replay_writes_no_daily_log_without_the_flag(tmp_path: Path) -> None:
    config = config_for(tmp_path)  # reports.enabled is true: the flag alone decides in replay
    day = date(2018, 1, 5)
    await replay(config, day, day, tmp_path / "replay.sqlite")
    assert not (tmp_path / "reports").exists()


def test_alvh_replay_with_daily_logs_writes_a_folder_per_day_and_says_where(
    tmp_path: Path,
) -> None:
    toml = toml_for(tmp_path)
    result = runner.invoke(
        app,
        [
            "replay",
            "--start",
            "2018-01-05",
            "--end",
            "2018-01-08",
            "--config",
            str(toml),
            "--db",
            str(tmp_path / "replay.sqlite"),
            "--daily-logs",
        ],
    )
    assert result.exit_code == 0, result.output
    reports = tmp_path / "reports"
    assert str(reports / "YYYY-MM-DD") in result.output
    assert sorted(p.name for p in reports.iterdir()) == ["2018-01-05", "2018-01-08"]
    _, rows = read_csv(reports / "2018-01-08" / "fills.csv")
    assert len(rows) == Journal(f"sqlite:///{tmp_path / 'replay.sqlite'}").fill_count() == 4


def test_with_daily_logs_switches_only_the_reports_flag() -> None:
    config = AppConfig()
    off = with_daily_logs(config, False)
    assert off.reports.enabled is False and off.reports.dir == config.reports.dir
    assert off.model_copy(update={"reports": config.reports}) == config
    assert with_daily_logs(off, True).reports.enabled is True


# the journal's facts, day by day (in-memory journal)

EXPIRY = date(2018, 2, 16)


def spxw(strike: float, right: Right) -> OptionContract:
    return OptionContract("SPX", "SPXW", EXPIRY, strike, right)


LEGS = (
    Leg(spxw(2600.0, Right.PUT), Side.BUY),
    Leg(spxw(2650.0, Right.PUT), Side.SELL),
    Leg(spxw(2850.0, Right.CALL), Side.SELL),
    Leg(spxw(2900.0, Right.CALL), Side.BUY),
)


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def intent(kind: IntentKind, reason: str, structure_id: int | None = None) -> Intent:
    legs = LEGS if kind is IntentKind.OPEN else tuple(leg.reversed() for leg in LEGS)
    return Intent(
        kind, Engine.CONDOR, StructureKind.IRON_CONDOR, legs, 2, -2.0, reason, structure_id
    )


def fill(exec_id: str, ref: str, at: datetime, leg: Leg = LEGS[0]) -> Fill:
    return Fill(exec_id, ref, leg.contract, leg.side, 2, 1.5, 1.25, at)


MON, TUE, WED = date(2018, 1, 8), date(2018, 1, 9), date(2018, 1, 10)


@pytest.fixture
def journal() -> Journal:
    """A condor opened Monday 10:00, marked Monday 15:45, closed Tuesday 11:00 for +290."""
    journal = Journal.in_memory()
    opening = journal.record_intent(intent(IntentKind.OPEN, "enter"), ny(MON, 10))
    for n, leg in enumerate(LEGS):
        journal.record_fill(fill(f"e{n}", order_ref(opening), ny(MON, 10, 1), leg))
    structure_id = journal.open_structure(
        intent_id=opening,
        engine=Engine.CONDOR,
        kind=StructureKind.IRON_CONDOR,
        legs=LEGS,
        quantity=2,
        open_price=-2.0,
        opened_at=ny(MON, 10, 1),
    )
    journal.record_marks({structure_id: -1.5}, ny(MON, 15, 45))
    closing = journal.record_intent(
        intent(IntentKind.CLOSE, "take profit | 50%\ncaptured", structure_id), ny(TUE, 11)
    )
    journal.record_fill(fill("c0", order_ref(closing), ny(TUE, 11, 1)))
    journal.close_structure(
        structure_id,
        close_price=0.5,
        closed_at=ny(TUE, 11, 1),
        reason="take profit",
        commissions=10.0,
        intent_id=closing,
    )
    for day, nlv in ((MON, 1_000_100.0), (TUE, 1_000_290.0), (WED, 1_000_290.0)):
        journal.record_equity(day, AccountSnapshot("DU1", ny(day, 16, 20), nlv, nlv, 0.0))
    return journal


def test_a_day_is_the_new_york_calendar_day_across_daylight_saving() -> None:
    start, end = day_bounds(date(2018, 3, 11))  # clocks go forward: a 23-hour day
    assert start.astimezone(UTC) == datetime(2018, 3, 11, 5, tzinfo=UTC)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)


def test_a_fill_late_in_the_evening_belongs_to_its_new_york_day(journal: Journal) -> None:
    late = ny(WED, 23, 30)  # 04:30 UTC on Thursday
    journal.record_fill(fill("late", "alvh-1", late))
    assert [f.fill.exec_id for f in gather_day_log(journal, WED).fills] == ["late"]
    assert gather_day_log(journal, date(2018, 1, 11)).fills == ()


def test_realized_pnl_counts_on_the_closing_day_and_in_the_total_after(journal: Journal) -> None:
    monday, tuesday, wednesday = (gather_day_log(journal, d) for d in (MON, TUE, WED))
    realized = -(-2.0 + 0.5) * 100 * 2 - 10.0
    assert [h.structure.id for h in monday.held] == [1] and monday.closed == ()
    assert monday.realized_total == 0.0
    assert tuesday.held == () and [c[4] for c in tuesday.closed] == [realized]
    assert tuesday.realized_total == wednesday.realized_total == realized
    assert wednesday.closed == ()
    text = summary_markdown(tuesday)
    assert table_value(text, "realized, structures closed this day (1)") == f"{realized:+,.2f}"
    assert table_value(summary_markdown(monday), "unrealized") == f"{(-1.5 + 2.0) * 200:+,.2f}"


def test_close_fills_name_the_structure_they_close(journal: Journal) -> None:
    [linked] = gather_day_log(journal, TUE).fills
    assert (linked.intent_id, linked.structure_id, linked.engine) == (2, 1, Engine.CONDOR)
    opening = gather_day_log(journal, MON).fills
    assert {(f.intent_id, f.structure_id) for f in opening} == {(1, 1)}


def test_a_foreign_fill_has_no_intent_structure_or_engine(journal: Journal, tmp_path: Path) -> None:
    journal.record_fill(fill("manual", "typed-in-tws", ny(WED, 12)))
    written = write_day_log(journal, WED, tmp_path)
    _, [row] = read_csv(written.folder / "fills.csv")
    assert (row["order_ref"], row["intent_id"], row["structure_id"], row["engine"]) == (
        "typed-in-tws",
        "",
        "",
        "",
    )


def test_a_mark_journaled_after_the_day_is_not_shown_for_it(journal: Journal) -> None:
    structure_id = journal.open_structure(
        intent_id=journal.record_intent(intent(IntentKind.OPEN, "again"), ny(TUE, 10)),
        engine=Engine.CONDOR,
        kind=StructureKind.IRON_CONDOR,
        legs=LEGS,
        quantity=2,
        open_price=-2.0,
        opened_at=ny(TUE, 10),
    )
    journal.record_marks({structure_id: -1.0}, ny(WED, 10))
    [tuesday] = gather_day_log(journal, TUE).held
    [wednesday] = gather_day_log(journal, WED).held
    assert (tuesday.mark, tuesday.marked_at) == (None, None)
    assert (wednesday.mark, wednesday.marked_at) == (-1.0, ny(WED, 10))
    text = summary_markdown(gather_day_log(journal, TUE))
    assert "with a mark (0 of 1)" in text and "had none journaled by the end of this day" in text


def test_a_partial_close_later_shows_the_day_as_its_two_rows_of_the_same_size(
    journal: Journal,
) -> None:
    opening = journal.record_intent(intent(IntentKind.OPEN, "third"), ny(TUE, 10))
    structure_id = journal.open_structure(
        intent_id=opening,
        engine=Engine.CONDOR,
        kind=StructureKind.IRON_CONDOR,
        legs=LEGS,
        quantity=3,
        open_price=-2.0,
        opened_at=ny(TUE, 10),
    )
    journal.close_structure(
        structure_id, close_price=0.5, closed_at=ny(WED, 11), reason="trim", units=1
    )
    held_tuesday = gather_day_log(journal, TUE).held
    assert sum(h.structure.quantity for h in held_tuesday) == 3
    assert [h.structure.quantity for h in gather_day_log(journal, WED).held] == [2]


def test_intent_reasons_are_listed_with_pipes_and_newlines_made_table_safe(
    journal: Journal,
) -> None:
    text = summary_markdown(gather_day_log(journal, TUE))
    [row] = [line for line in text.splitlines() if line.startswith("| 2 |")]
    assert row.endswith("| take profit \\| 50% captured |")
    assert "| close | condor | iron_condor 1 |" in row


def test_the_first_equity_row_has_no_day_pnl_and_a_gap_day_compares_with_the_last_close(
    journal: Journal,
) -> None:
    journal.record_equity(
        date(2018, 1, 12), AccountSnapshot("DU1", ny(date(2018, 1, 12), 16, 20), 999_000.0, 0, 0)
    )
    assert table_value(summary_markdown(gather_day_log(journal, MON)), "day P&L") == (
        "n/a (no earlier equity row)"
    )
    friday = summary_markdown(gather_day_log(journal, date(2018, 1, 12)))
    assert table_value(friday, "day P&L (net liquidation since 2018-01-10)") == "-1,290.00"


def test_macro_events_that_cannot_be_read_say_why(tmp_path: Path) -> None:
    missing = upcoming_macro_events(tmp_path / "none.csv", MON)
    assert isinstance(missing, str) and missing.startswith("not available yet: cannot read")
    bad = tmp_path / "bad.csv"
    bad.write_text("date,event,time_et,status,source\n2018-01-09,NFP,08:30,ok,BLS\n")
    broken = upcoming_macro_events(bad, MON)
    assert isinstance(broken, str) and "unknown event 'NFP'" in broken
    good = tmp_path / "good.csv"
    good.write_text(
        "date,event,time_et,status,source\n2018-01-08,CPI,08:30,ok,BLS\n2018-01-09,PPI,08:30,ok,BLS\n"
    )
    upcoming = upcoming_macro_events(good, MON)
    assert not isinstance(upcoming, str)
    assert [(e.day, e.kind) for e in upcoming] == [(TUE, "PPI")]  # the day's own event is past


def test_a_day_before_anything_was_journaled_still_renders(tmp_path: Path) -> None:
    written = write_day_log(Journal.in_memory(), MON, tmp_path)
    assert (written.fills, written.intents, written.rolls, written.has_equity) == (0, 0, 0, False)
    assert png_size((written.folder / "equity.png").read_bytes()) == (900, 450)
    assert io.BytesIO((written.folder / "fills.csv").read_bytes()).read().count(b"\n") == 1


# R2, k, ratio and signals; commands applied (in-memory journal)


def snapshot(
    at: datetime, job: str, *, k: float = 1.0, ratio: int = 2, notes: str = ""
) -> HedgeSnapshot:
    """A snapshot whose signals are those of the session before `at`'s day."""
    signals = Signals(
        day=at.date() - timedelta(days=1),
        breadth_divergence=True,
        spx_crossover=-1,
        vix_rsi=27.25,
        rsi_episode="low",
        rsi_episode_start=date(2018, 1, 3),
        r2=0.712,
    )
    rebalance = job == "rebalance"
    return HedgeSnapshot(
        at,
        at.date(),
        job,
        signals,
        k,
        k * 1.2,
        ratio,
        1.0,
        condor_scenario_pnl=-2_500.0 if rebalance else None,
        layer_scenario_pnl=1_800.5 if rebalance else None,
        layer_cost_year=950.0 if rebalance else 0.0,
        notes=notes,
    )


@pytest.fixture
def hedged(journal: Journal) -> Journal:
    """Monday: signals and a rebalance that raised k; Tuesday: the signals job alone."""
    moved = "R2 0.71 above the band 0.45-0.65: k 1.000 raised 10% -> k 1.100; bearish SPX MACD "
    moved += "crossover: one more long call -> ratio 1:3"
    for row in (
        snapshot(ny(MON, 9, 40), "signals"),
        snapshot(ny(MON, 10, 30), "rebalance", k=1.1, ratio=3, notes=moved),
        snapshot(ny(TUE, 9, 40), "signals", k=1.1, ratio=3),
    ):
        hedge_snapshots.record(journal.engine, row)
    return journal


def test_the_summary_shows_the_days_rebalance_with_its_signals_and_notes(hedged: Journal) -> None:
    text = section(summary_markdown(gather_day_log(hedged, MON)), "R2, k, ratio and signals")
    assert text.strip().startswith("From the rebalance job at 2018-01-08 10:30:00.")
    expected = {
        "R2": "0.71",
        "k": "1.100",
        "k effective": "1.320",
        "backspread ratio": "1:3",
        "hedge scale": "1",
        "signals as of the session": "2018-01-07",
        "breadth divergence": "yes",
        "SPX MACD crossover": "bearish (-1)",
        "VIX RSI": "27.2",  # 27.25 to one decimal, half to even
        "VIX RSI episode": "low since 2018-01-03",
        "condor scenario P&L": "-2,500.00",
        "VIX layer scenario P&L": "+1,800.50",
        "VIX layer cost over the rolling year": "+950.00",
    }
    assert {label: table_value(text, label) for label in expected} == expected
    assert "- R2 0.71 above the band 0.45-0.65: k 1.000 raised 10% -> k 1.100\n" in text
    assert "- bearish SPX MACD crossover: one more long call -> ratio 1:3\n" in text


def test_a_day_without_a_rebalance_shows_the_latest_snapshot_before_its_end(
    hedged: Journal,
) -> None:
    tuesday = section(summary_markdown(gather_day_log(hedged, TUE)), "R2, k, ratio and signals")
    assert "No rebalance on this day: from the signals job at 2018-01-09 09:40:00" in tuesday
    assert table_value(tuesday, "scenario P&L, layer cost") == "computed at the 10:30 rebalance"
    assert table_value(tuesday, "k") == "1.100" and "notes" not in tuesday
    wednesday = gather_day_log(hedged, WED).hedge
    assert wednesday is not None and wednesday.at == ny(TUE, 9, 40)
    before = summary_markdown(gather_day_log(hedged, date(2018, 1, 5)))
    assert "No hedge snapshot is journaled by the end of this day" in before


def test_a_rebuilt_earlier_day_ignores_the_snapshots_journaled_after_it(hedged: Journal) -> None:
    hedge_snapshots.record(hedged.engine, snapshot(ny(WED, 10, 30), "rebalance", k=1.21))
    monday = gather_day_log(hedged, MON).hedge
    assert monday is not None and (monday.at, monday.k) == (ny(MON, 10, 30), 1.1)
    tuesday = gather_day_log(hedged, TUE).hedge
    assert tuesday is not None and tuesday.at == ny(TUE, 9, 40)
    wednesday = gather_day_log(hedged, WED).hedge  # the newest: read without the history
    assert wednesday is not None and (wednesday.at, wednesday.k) == (ny(WED, 10, 30), 1.21)


async def test_the_child_process_writes_the_same_bytes_as_the_in_process_writer(
    hedged: Journal, tmp_path: Path
) -> None:
    hedged.save_copy(tmp_path / "journal.sqlite")
    url = f"sqlite:///{tmp_path / 'journal.sqlite'}"
    for day in (MON, TUE):  # a condor opened, marked and hedged; then closed
        by_child = await write_day_log_in_child(DayLogRequest(url, day, tmp_path / "child"))
        in_process = write_day_log(hedged, day, tmp_path / "in-process")
        assert by_child is not None
        assert (by_child.fills, by_child.intents, by_child.has_equity) == (
            in_process.fills,
            in_process.intents,
            in_process.has_equity,
        )
        for name in sorted(FILES):
            child_bytes = (by_child.folder / name).read_bytes()
            assert child_bytes == (in_process.folder / name).read_bytes(), (day, name)


def test_the_days_last_rebalance_wins_over_a_later_signals_snapshot() -> None:
    first = snapshot(ny(MON, 10, 30), "rebalance", k=1.1)
    second = snapshot(ny(MON, 11, 0), "rebalance", k=1.21)
    late_signals = snapshot(ny(MON, 15, 0), "signals")
    assert hedge_snapshot_of_day([late_signals, second, first], MON) == second
    assert hedge_snapshot_of_day([late_signals], TUE) == late_signals
    assert hedge_snapshot_of_day([second], TUE) == second  # Monday's, the latest before Tuesday
    assert hedge_snapshot_of_day([], MON) is None


def answered(
    journal: Journal, verb: CommandVerb, status: CommandStatus, at: datetime, **args: object
) -> int:
    """Submit a command and answer it at `at` (the wall clock the daemon would write)."""
    command_id = commands.submit(journal.engine, verb, args, "test", now=at - timedelta(minutes=1))
    if status is CommandStatus.CANCELLED:
        assert commands.cancel(journal.engine, command_id, now=at)
    elif status is not CommandStatus.PENDING:
        assert commands.claim(journal.engine, command_id)
        assert commands.finish(journal.engine, command_id, status, f"{verb.value} {status}", now=at)
    return command_id


def test_commands_answered_on_the_new_york_day_are_listed_by_answer_time(journal: Journal) -> None:
    late = answered(
        journal, CommandVerb.CLOSE, CommandStatus.REJECTED, ny(MON, 23, 30), structure_id=9
    )
    early = answered(journal, CommandVerb.PAUSE, CommandStatus.APPLIED, ny(MON, 9, 5))
    answered(journal, CommandVerb.KILL, CommandStatus.CANCELLED, ny(MON, 12))
    answered(journal, CommandVerb.SKIP_ENTRY, CommandStatus.PENDING, ny(MON, 12))
    failed = answered(
        journal, CommandVerb.SET, CommandStatus.FAILED, ny(TUE, 0, 10), name="ratio", value=3
    )
    monday = gather_day_log(journal, MON)
    assert [c.id for c in monday.commands_applied] == [early, late]
    assert [c.id for c in gather_day_log(journal, TUE).commands_applied] == [failed]
    text = section(summary_markdown(monday), "Commands applied (2)")
    assert "wall clock" in text and "not the simulated day" in text
    rows = [line for line in text.splitlines() if line.startswith("| 2018-")]
    assert rows == [
        f"| 2018-01-08 09:05:00 | {early} | pause | applied | pause applied |",
        f"| 2018-01-08 23:30:00 | {late} | close 9 | rejected | close rejected |",
    ]
    tuesday = section(summary_markdown(gather_day_log(journal, TUE)), "Commands applied (1)")
    assert f"| 2018-01-09 00:10:00 | {failed} | set ratio 3 | failed | set failed |" in tuesday
    assert gather_day_log(journal, WED).commands_applied == ()


def test_commands_answered_between_keeps_the_answered_ones_in_the_window(journal: Journal) -> None:
    answered(journal, CommandVerb.RESUME, CommandStatus.APPLIED, ny(MON, 10))
    answered(journal, CommandVerb.PAUSE, CommandStatus.APPLIED, ny(TUE, 0, 0))  # the next day
    everything = commands.commands(journal.engine)
    start, end = day_bounds(MON)
    assert [c.verb for c in commands_answered_between(everything, start, end)] == [
        CommandVerb.RESUME
    ]
    assert commands_answered_between(everything, end, end) == ()
