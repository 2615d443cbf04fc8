"""The daily fill and roll log: `reports/YYYY-MM-DD/` with fills.csv, rolls.csv, summary.md and
equity.png, written after the daily close and rebuilt for any day by `alvh report --date D`.
The daemon writes it in a short-lived child process when its journal is a file
(bot/day_log_child.py: the chart's matplotlib and the reads of the whole history never enter
the daemon's memory), in a worker thread when the journal is in memory (replay).

Modeling choices:
- A day is the America/New_York calendar day [00:00, 24:00) ET; the journal stores UTC and every
  time in the files is shown in ET (ISO 8601 with its offset in the CSVs).
- Every figure is read from the journal, and nothing about the moment of writing (no "generated
  at") goes into the files, so rebuilding a day gives the same bytes as long as the journal's
  facts about that day have not changed.
- Positions are the structures opened before the end of the day and not closed by then. A
  structure split by a partial close after the day shows as its two journal rows.
- Unrealized P&L is (mark - open price) x multiplier x quantity from the structure's mark (its
  net mid per unit, as `alvh status` shows it): the last mark journaled by the end of the day,
  from the daily mark history (`structure_marks`), so a rebuilt day shows that day's marks.
- Day P&L is the change in net liquidation since the previous equity row (the last daily close
  before this day), commissions and fees included.
- Realized P&L: of the structures closed during the day, and in total up to the day's end.
- Greeks are the position greeks journaled with each structure's last mark of the day.
- R2, k, the ratio and the signals come from the journal's hedge snapshots (one per 09:40
  signals job, one per 10:30 rebalance): the day's last rebalance, else the latest snapshot
  journaled before the day's end (that day's signals job, or an earlier day's snapshot; the
  section names which). The band verdict is the rebalance's own note ("R2 0.52 inside the band
  0.45-0.65"), written with the config of that day, so a rebuild does not depend on today's
  config. Scenario P&L and the layer's cost over the year come only from a rebalance (the
  signals job computes neither).
- Commands applied: the commands the daemon answered (applied, rejected or failed; not the
  cancelled ones, which the CLI answers) whose `applied_at` falls on that New York calendar day.
  `applied_at` is the wall clock, not the engine's: on the simulated exchange a replayed day
  lists the commands answered on that real date (usually none), and the section says so.
- The next macro events come from config/macro_events.csv.
- Each file is rendered in memory, then written to a temporary file in the day's folder and
  moved over the old one with os.replace: a crash leaves the old file or the new, never half.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import structlog

from broker.calendar import NY
from broker.contracts import OptionContract
from broker.orders import Leg
from broker.structures import Engine, PositionGreeks
from storage import commands as command_journal
from storage import hedge_snapshots
from storage.commands import Command, CommandStatus
from storage.hedge_snapshots import HedgeSnapshot
from storage.journal import (
    ClosedStructure,
    EquityDay,
    HeldStructure,
    Journal,
    JournaledIntent,
    JournaledRoll,
    LinkedFill,
)
from strategies.signals.macro_calendar import MacroEvent, next_events, parse_macro_events

if TYPE_CHECKING:  # the report's child process never needs the config's models
    from bot.config import AppConfig

log = structlog.get_logger("alvh.daily_report")

MACRO_EVENTS_CSV = Path(__file__).resolve().parents[1] / "config" / "macro_events.csv"
NEXT_EVENTS = 5
FILLS_CSV, ROLLS_CSV, SUMMARY_MD, EQUITY_PNG = "fills.csv", "rolls.csv", "summary.md", "equity.png"
FILLS_COLUMNS = (
    "time_et",
    "exec_id",
    "order_ref",
    "intent_id",
    "structure_id",
    "engine",
    "contract",
    "symbol",
    "trading_class",
    "expiry",
    "strike",
    "right",
    "side",
    "quantity",
    "price",
    "commission",
)
ROLLS_COLUMNS = ("time_et", "old_structure_id", "new_structure_id", "engine", "reason", "net_price")
NOT_YET = "not available yet"
REBALANCE_JOB = "rebalance"
ANSWERED = (CommandStatus.APPLIED, CommandStatus.REJECTED, CommandStatus.FAILED)

UpcomingEvents = tuple[MacroEvent, ...] | str  # the next events, or why they are unknown


@dataclass(frozen=True)
class DayLog:
    """What the journal says about one New York day, gathered for the report."""

    day: date
    equity: EquityDay | None
    previous: EquityDay | None
    curve: tuple[tuple[date, float], ...]
    fills: tuple[LinkedFill, ...]
    intents: tuple[JournaledIntent, ...]
    rolls: tuple[JournaledRoll, ...]
    held: tuple[HeldStructure, ...]
    greeks: dict[int, PositionGreeks]
    closed: tuple[ClosedStructure, ...]
    realized_total: float
    macro_events: UpcomingEvents
    hedge: HedgeSnapshot | None = None  # the day's last rebalance, else the latest before its end
    commands_applied: tuple[Command, ...] = ()  # answered that day on the wall clock


@dataclass(frozen=True)
class WrittenDayLog:
    """The folder written and what it holds."""

    folder: Path
    fills: int
    intents: int
    rolls: int
    has_equity: bool


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the start and the (exclusive) end of a New York calendar day."""
    start = datetime.combine(day, time(), tzinfo=NY)
    return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=NY)


def upcoming_macro_events(path: Path, day: date, n: int = NEXT_EVENTS) -> UpcomingEvents:
    """Return the next `n` macro events after `day`, or why they cannot be listed."""
    try:
        events = parse_macro_events(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return f"{NOT_YET}: cannot read {path} ({exc.strerror or exc})"
    except ValueError as exc:
        return f"{NOT_YET}: {path}: {exc}"
    return tuple(next_events(events, day + timedelta(days=1), n))


def gather_day_log(
    journal: Journal, day: date, macro_events_csv: Path = MACRO_EVENTS_CSV
) -> DayLog:
    """Read from the journal everything the report of `day` shows."""
    start, end = day_bounds(day)
    rows = journal.equity_days(day)
    equity = rows[-1] if rows and rows[-1].day == day else None
    earlier = [row for row in rows if row.day < day]
    return DayLog(
        day=day,
        equity=equity,
        previous=earlier[-1] if earlier else None,
        curve=tuple((row.day, row.net_liquidation) for row in rows),
        fills=tuple(journal.fills_between(start, end)),
        intents=tuple(journal.intents_between(start, end)),
        rolls=tuple(journal.rolls_between(start, end)),
        held=tuple(journal.structures_held_at(end)),
        greeks=journal.greeks_held_at(end),
        closed=tuple(journal.structures_closed_between(start, end)),
        realized_total=journal.realized_pnl_before(end),
        macro_events=upcoming_macro_events(macro_events_csv, day),
        hedge=_hedge_snapshot_by(journal, day, end),
        commands_applied=commands_answered_between(
            command_journal.commands(journal.engine), start, end
        ),
    )


def hedge_snapshot_of_day(candidates: Iterable[HedgeSnapshot], day: date) -> HedgeSnapshot | None:
    """Return the day's last rebalance among `candidates` (all journaled before the day's end),
    else the latest of them, or None when there is none."""
    ordered = sorted(candidates, key=lambda s: s.at)
    rebalances = [s for s in ordered if s.job == REBALANCE_JOB and s.day == day]
    if rebalances:
        return rebalances[-1]
    return ordered[-1] if ordered else None


def _hedge_snapshot_by(journal: Journal, day: date, end: datetime) -> HedgeSnapshot | None:
    """Read the candidates for `hedge_snapshot_of_day`: when nothing is journaled after the
    day's end (the daily close writing its own day) the newest snapshot and the newest
    rebalance are enough; a rebuilt earlier day reads the whole history."""
    newest = hedge_snapshots.latest(journal.engine)
    if newest is None:
        return None
    if newest.at < end:
        rebalance = hedge_snapshots.latest(journal.engine, REBALANCE_JOB)
        candidates = [newest] if rebalance is None else [newest, rebalance]
    else:
        candidates = [s for s in hedge_snapshots.history(journal.engine) if s.at < end]
    return hedge_snapshot_of_day(candidates, day)


def commands_answered_between(
    commands: Iterable[Command], start: datetime, end: datetime
) -> tuple[Command, ...]:
    """Return the commands applied, rejected or failed in [start, end), by answer time."""
    answered = (
        c
        for c in commands
        if c.status in ANSWERED and c.applied_at is not None and start <= c.applied_at < end
    )
    return tuple(sorted(answered, key=lambda c: (c.applied_at or start, c.id)))


# CSV files


def fills_csv(fills: Sequence[LinkedFill]) -> str:
    """Return fills.csv: one row per execution, in the order given (time, then exec_id)."""
    return _csv(FILLS_COLUMNS, [_fill_row(linked) for linked in fills])


def rolls_csv(rolls: Sequence[JournaledRoll]) -> str:
    """Return rolls.csv: one row per roll (the header alone when there is none)."""
    rows = [
        [_et(r.time), r.old_structure_id, r.new_structure_id, r.engine.value, r.reason, r.net_price]
        for r in rolls
    ]
    return _csv(ROLLS_COLUMNS, rows)


def _fill_row(linked: LinkedFill) -> list[object]:
    fill, contract = linked.fill, linked.fill.contract
    strike, right = "", ""
    if isinstance(contract, OptionContract):
        strike, right = f"{contract.strike!r}", contract.right.value
    return [
        _et(fill.time),
        fill.exec_id,
        fill.order_ref,
        _blank(linked.intent_id),
        _blank(linked.structure_id),
        "" if linked.engine is None else linked.engine.value,
        contract.key,
        contract.symbol,
        contract.trading_class,
        contract.expiry.isoformat(),
        strike,
        right,
        fill.side.value,
        fill.quantity,
        fill.price,
        fill.commission,
    ]


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


# summary.md


def summary_markdown(day_log: DayLog) -> str:
    """Return summary.md: balances, P&L, positions by engine, the day's activity, what is next."""
    d = day_log.day
    lines = [
        f"# Daily log {d.isoformat()} ({d:%A})",
        "",
        "Times are America/New_York. Every figure is read from the journal "
        f"(`alvh report --date {d.isoformat()}` rebuilds this folder).",
        "",
        *_account(day_log),
        *_pnl(day_log),
        *_positions(day_log),
        *_greeks(day_log),
        *_closed(day_log),
        *_activity(day_log),
        *_rolls(day_log),
        *_hedge(day_log.hedge, d),
        *_macro(day_log.macro_events, d),
        *_commands_applied(day_log.commands_applied),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _account(day_log: DayLog) -> list[str]:
    equity, previous = day_log.equity, day_log.previous
    if equity is None:
        return [
            "## Account",
            "",
            f"No equity row is journaled for {day_log.day.isoformat()}: no daily close ran that "
            "day (a weekend, a holiday, or the daemon was not running), so the balances and the "
            "day's P&L are not known.",
            "",
        ]
    if previous is None:
        day_pnl = ("day P&L", "n/a (no earlier equity row)")
    else:
        change = equity.net_liquidation - previous.net_liquidation
        day_pnl = (f"day P&L (net liquidation since {previous.day.isoformat()})", _signed(change))
    rows = [
        ("net liquidation", _money(equity.net_liquidation)),
        ("cash", _money(equity.cash)),
        ("maintenance margin", _money(equity.maintenance_margin)),
        day_pnl,
        ("balances at", _et_short(equity.time)),
    ]
    return ["## Account", "", *_table(("measure", "value"), rows, "lr"), ""]


def _pnl(day_log: DayLog) -> list[str]:
    marked = [h for h in day_log.held if h.mark is not None]
    unrealized = sum(h.structure.pnl_at(h.mark) for h in marked if h.mark is not None)
    realized_today = sum(closed[4] for closed in day_log.closed)
    rows = [
        (f"realized, structures closed this day ({len(day_log.closed)})", _signed(realized_today)),
        ("realized, total to the end of this day", _signed(day_log.realized_total)),
        (
            f"unrealized, held structures with a mark ({len(marked)} of {len(day_log.held)})",
            _signed(unrealized),
        ),
    ]
    lines = ["## P&L", "", *_table(("measure", "value"), rows, "lr"), ""]
    if len(marked) < len(day_log.held):
        lines += [
            "A structure without a mark had none journaled by the end of this day (journals "
            "from before the daily mark history keep only each structure's latest mark).",
            "",
        ]
    return lines


def _positions(day_log: DayLog) -> list[str]:
    lines = ["## Positions by engine", ""]
    header = ("id", "kind", "legs", "qty", "open price", "mark", "marked at", "unrealized")
    for engine in Engine:
        held = [h for h in day_log.held if h.structure.engine is engine]
        lines += [f"### {engine.value} ({len(held)})", ""]
        if not held:
            lines += ["none", ""]
            continue
        rows = [
            (
                str(h.structure.id),
                h.structure.kind.value,
                _legs(h.structure.legs),
                str(h.structure.quantity),
                f"{h.structure.open_price:+.2f}",
                "-" if h.mark is None else f"{h.mark:+.2f}",
                "-" if h.marked_at is None else _et_short(h.marked_at),
                "-" if h.mark is None else _signed(h.structure.pnl_at(h.mark)),
            )
            for h in held
        ]
        lines += [*_table(header, rows, "lllrrrlr"), ""]
    return lines


def _closed(day_log: DayLog) -> list[str]:
    lines = [f"## Structures closed this day ({len(day_log.closed)})", ""]
    if not day_log.closed:
        return [*lines, "none", ""]
    header = ("id", "engine", "kind", "qty", "closed at", "close price", "reason", "realized")
    rows = [
        (
            str(s.id),
            s.engine.value,
            s.kind.value,
            str(s.quantity),
            _et_short(closed_at),
            f"{price:+.2f}",
            reason,
            _signed(realized),
        )
        for s, closed_at, price, reason, realized in day_log.closed
    ]
    return [*lines, *_table(header, rows, "llllrrlr"), ""]


def _activity(day_log: DayLog) -> list[str]:
    fills, intents = len(day_log.fills), len(day_log.intents)
    lines = [
        "## Fills and intents",
        "",
        f"{fills} fills (one row each in {FILLS_CSV}); {intents} intents journaled this day.",
        "",
    ]
    if not intents:
        return lines
    header = ("intent", "time", "kind", "engine", "structure", "qty", "limit", "status", "reason")
    rows = [
        (
            str(j.id),
            _et_short(j.created_at),
            j.intent.kind.value,
            j.intent.engine.value,
            j.intent.structure_kind.value
            + ("" if j.intent.structure_id is None else f" {j.intent.structure_id}"),
            str(j.intent.quantity),
            f"{j.intent.limit_price:+.2f}",
            j.status + (f": {j.status_message}" if j.status_message else ""),
            j.intent.reason,
        )
        for j in day_log.intents
    ]
    return [*lines, *_table(header, rows, "llllllrll"), ""]


def _rolls(day_log: DayLog) -> list[str]:
    lines = [f"## Rolls ({len(day_log.rolls)})", ""]
    if not day_log.rolls:
        return [*lines, f"none journaled (see {ROLLS_CSV})", ""]
    header = ("time", "old structure", "new structure", "engine", "net price", "reason")
    rows = [
        (
            _et_short(r.time),
            str(r.old_structure_id),
            str(r.new_structure_id),
            r.engine.value,
            f"{r.net_price:+.2f}",
            r.reason,
        )
        for r in day_log.rolls
    ]
    return [*lines, *_table(header, rows, "lllrrl"), ""]


def _macro(events: UpcomingEvents, day: date) -> list[str]:
    lines = [f"## Next macro events (after {day.isoformat()})", ""]
    if isinstance(events, str):
        return [*lines, events, ""]
    if not events:
        return [*lines, "none in the macro events file", ""]
    rows = [(e.day.isoformat(), f"{e.day:%a}", e.kind, e.time_et, e.status) for e in events]
    return [*lines, *_table(("date", "day", "event", "time ET", "status"), rows, "lllll"), ""]


def _greeks(day_log: DayLog) -> list[str]:
    """Position greeks at each held structure's last mark of the day, and their sum."""
    lines = ["## Greeks", ""]
    rows = [
        (str(h.structure.id), h.structure.engine.value, day_log.greeks[h.structure.id])
        for h in day_log.held
        if h.structure.id in day_log.greeks
    ]
    if not rows:
        return [*lines, "none journaled for the structures held at the end of this day.", ""]
    total = rows[0][2]
    for _, _, g in rows[1:]:
        total = total + g
    table = [
        (sid, engine, f"{g.delta:+.2f}", f"{g.gamma:+.4f}", f"{g.vega:+,.0f}", f"{g.theta:+,.0f}")
        for sid, engine, g in rows
    ]
    table.append(
        (
            "total",
            "",
            f"{total.delta:+.2f}",
            f"{total.gamma:+.4f}",
            f"{total.vega:+,.0f}",
            f"{total.theta:+,.0f}",
        )
    )
    header = ("id", "engine", "delta", "gamma", "vega $/vol pt", "theta $/day")
    lines += _table(header, table, "llrrrr")
    lines += ["", "At each structure's last mark of the day; delta in underlying units.", ""]
    return lines


def _hedge(snapshot: HedgeSnapshot | None, day: date) -> list[str]:
    """R2, k, the ratio and the signals of the day's snapshot, with the rebalance's notes."""
    lines = ["## R2, k, ratio and signals", ""]
    if snapshot is None:
        return [
            *lines,
            "No hedge snapshot is journaled by the end of this day (the first comes with the "
            "09:40 signals job).",
            "",
        ]
    source = f"the {snapshot.job} job at {_et_short(snapshot.at)}"
    if snapshot.job == REBALANCE_JOB and snapshot.day == day:
        lines += [f"From {source}.", ""]
    else:
        lines += [
            f"No rebalance on this day: from {source}, the latest snapshot before its end.",
            "",
        ]
    lines += [*_table(("measure", "value"), _hedge_rows(snapshot), "lr"), ""]
    notes = [note for note in snapshot.notes.split("; ") if note]
    if notes:
        lines += ["Why k and the ratio moved (the rebalance's notes):", ""]
        lines += [f"- {note}" for note in notes] + [""]
    return lines


def _hedge_rows(snapshot: HedgeSnapshot) -> list[tuple[str, str]]:
    s = snapshot.signals
    crossover = {1: "bullish (+1)", -1: "bearish (-1)"}.get(s.spx_crossover, "none (0)")
    episode = "none"
    if s.rsi_episode:
        since = "" if s.rsi_episode_start is None else f" since {s.rsi_episode_start.isoformat()}"
        episode = f"{s.rsi_episode}{since}"
    rows = [
        ("R2 (portfolio vs SPX, rolling)", _number(s.r2, ".2f")),
        ("k", f"{snapshot.k:.3f}"),
        ("k effective (breadth scale x hedge scale)", f"{snapshot.k_effective:.3f}"),
        ("backspread ratio (after any override)", f"1:{snapshot.ratio}"),
        ("hedge scale", f"{snapshot.hedge_scale:g}"),
        ("signals as of the session", "none yet" if s.day is None else s.day.isoformat()),
        ("breadth divergence", "yes" if s.breadth_divergence else "no"),
        ("SPX MACD crossover", crossover),
        ("VIX RSI", _number(s.vix_rsi, ".1f")),
        ("VIX RSI episode", episode),
    ]
    if snapshot.job != REBALANCE_JOB:
        return [*rows, ("scenario P&L, layer cost", "computed at the 10:30 rebalance")]
    return [
        *rows,
        ("condor scenario P&L", _signed_or_dash(snapshot.condor_scenario_pnl)),
        ("VIX layer scenario P&L", _signed_or_dash(snapshot.layer_scenario_pnl)),
        (
            "VIX layer cost over the rolling year (+ = spent)",
            _signed_or_dash(snapshot.layer_cost_year),
        ),
    ]


def _commands_applied(answered: Sequence[Command]) -> list[str]:
    lines = [
        f"## Commands applied ({len(answered)})",
        "",
        "Commands the daemon answered (applied, rejected or failed) during this New York "
        "calendar day on the wall clock: times are when it answered, on the computer's clock, "
        "so on the simulated exchange they are not the simulated day. Cancelled commands are "
        "not listed (`alvh commands list --all` shows every command).",
        "",
    ]
    if not answered:
        return [*lines, "none", ""]
    header = ("time (wall clock)", "id", "command", "status", "message")
    rows = [
        (
            "-" if c.applied_at is None else _et_short(c.applied_at),
            str(c.id),
            c.describe(),
            c.status.value,
            c.message or "-",
        )
        for c in answered
    ]
    return [*lines, *_table(header, rows, "lrlll"), ""]


def _number(value: float, spec: str) -> str:
    return "unknown" if not math.isfinite(value) else format(value, spec)


def _signed_or_dash(value: float | None) -> str:
    return "-" if value is None else _signed(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    """Return a Markdown table; `align` has one letter per column, l (left) or r (right)."""
    rule = ["---:" if a == "r" else "---" for a in align]
    return [_row(header), _row(rule), *(_row(row) for row in rows)]


def _row(cells: Sequence[str]) -> str:
    escaped = (" ".join(cell.split()).replace("|", "\\|") for cell in cells)
    return "| " + " | ".join(escaped) + " |"


def _legs(legs: Sequence[Leg]) -> str:
    return "; ".join(
        f"{leg.side.value}{'' if leg.ratio == 1 else f' {leg.ratio}x'} {leg.contract.key}"
        for leg in legs
    )


def _et(moment: datetime) -> str:
    return moment.astimezone(NY).isoformat()


def _et_short(moment: datetime) -> str:
    return moment.astimezone(NY).strftime("%Y-%m-%d %H:%M:%S")


def _blank(value: int | None) -> object:
    return "" if value is None else value


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _signed(value: float) -> str:
    return f"{value:+,.2f}"


# writing


def render_day_log(day_log: DayLog) -> dict[str, bytes]:
    """Return the four files of a day's folder by name."""
    from bot.report_charts import equity_chart_png  # matplotlib loads only when reports are made

    return {
        FILLS_CSV: fills_csv(day_log.fills).encode(),
        ROLLS_CSV: rolls_csv(day_log.rolls).encode(),
        SUMMARY_MD: summary_markdown(day_log).encode(),
        EQUITY_PNG: equity_chart_png(day_log.curve, day_log.day),
    }


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write `path` through a temporary file in its folder moved over it: all or nothing."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; a report is as readable as any other file
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _writer_of(data: bytes) -> Callable[[BinaryIO], object]:
    return lambda handle: handle.write(data)


def write_day_log(
    journal: Journal, day: date, reports_dir: Path, macro_events_csv: Path = MACRO_EVENTS_CSV
) -> WrittenDayLog:
    """Write (or rewrite) `reports_dir/YYYY-MM-DD/` for `day` from the journal."""
    day_log = gather_day_log(journal, day, macro_events_csv)
    files = render_day_log(day_log)
    folder = reports_dir / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write_atomically(folder / name, _writer_of(data))
    return WrittenDayLog(
        folder,
        len(day_log.fills),
        len(day_log.intents),
        len(day_log.rolls),
        day_log.equity is not None,
    )


def write_day_log_safely(journal: Journal, day: date, reports_dir: Path) -> WrittenDayLog | None:
    """Write the day's log; on any error log it and return None (the daemon goes on)."""
    try:
        written = write_day_log(journal, day, reports_dir)
    except Exception as exc:
        log.error(
            "daily log not written",
            day=day.isoformat(),
            folder=str(reports_dir / day.isoformat()),
            error=f"{type(exc).__name__}: {exc}",
            exc_info=True,
        )
        return None
    log.info(
        "daily log written",
        day=day.isoformat(),
        folder=str(written.folder),
        fills=written.fills,
        intents=written.intents,
    )
    return written


def with_daily_logs(config: AppConfig, enabled: bool) -> AppConfig:
    """Return `config` with the daily log switched on or off (replay's --daily-logs)."""
    reports = config.reports.model_copy(update={"enabled": enabled})
    return config.model_copy(update={"reports": reports})
