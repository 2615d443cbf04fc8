"""`alvh status`, the rendering half: the StatusReport of bot.status_report as rich tables or JSON.

Modeling choices:
- Both views render the one frozen `StatusReport` that `gather_status` reads from the journal, so
  they cannot disagree; this module reads nothing itself.
- JSON: ISO 8601 times in America/New_York with their offset, numbers as numbers, NaN as null,
  dataclasses as objects with their field names (the keys are listed in `gather_status`).
- Rich: `YYYY-MM-DD HH:MM ET`. Commands and the daemon lock carry the wall clock, the rest the
  engine's clock (they differ on the simulated exchange).
- Layout for an 80-column terminal: one narrow table per engine whose structure cell stacks the
  kind, the compact legs and the opening time, and whose mark cell stacks the mark and its time;
  key-value sections are two-column grids whose value column folds; nothing is printed with soft
  wrap, so rich folds every line to the console's width.
- The hedge section says when its figures are from (the newest snapshot and its job), marks an
  override that pins the ratio, and says "none journaled yet" rather than showing defaults.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.status_report import (
    AccountStatus,
    BudgetView,
    CommandView,
    FillView,
    HedgeStatus,
    MacroStatus,
    OrderView,
    R2View,
    SignalsView,
    StatusReport,
    StructureView,
    daemon_line,
    gather_status,
)
from broker.calendar import NY
from broker.structures import Engine

__all__ = ["StatusReport", "daemon_line", "gather_status", "render_status", "status_json"]


# -- JSON -----------------------------------------------------------------------------------


def status_json(report: StatusReport) -> str:
    """Return the report as JSON: ISO times in New York with offsets, numbers as numbers."""
    return json.dumps(_plain(report), indent=2)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.astimezone(NY).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None  # never NaN in JSON
    return value


# -- rich -----------------------------------------------------------------------------------


def render_status(report: StatusReport, console: Console) -> None:
    """Print the report as sections of rich tables that read well in 80 columns."""
    _print(console, f"status at {_ts(report.generated_at)} of the journal {report.journal}")
    _print(console, report.daemon.summary)
    _overview(report, console)
    _structures(report.structures, console)
    _orders(report.working_orders, console)
    _hedge_section(report, console)
    _macro_section(report.macro_events, console)
    _commands(report.commands, console)
    _account(report.account, console)
    _fills(report.last_fills, console)


def _print(console: Console, text: str) -> None:
    console.print(Text(text), highlight=False)


def _grid(console: Console, title: str, rows: Sequence[tuple[str, str]]) -> None:
    console.rule(Text(title), style="dim")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column()
    for key, value in rows:
        grid.add_row(Text(key), Text(value))
    console.print(grid)


def _overview(report: StatusReport, console: Console) -> None:
    daemon, broker, trading = report.daemon, report.broker, report.trading
    heartbeat = "-"
    if daemon.heartbeat_at is not None:
        heartbeat = f"{_ts(daemon.heartbeat_at)} ({daemon.heartbeat_age_seconds:.0f} s ago)"
    rows: list[tuple[str, str]] = []
    if daemon.pid is not None:  # the state and why it is stale are in the summary line above
        rows += [
            ("pid / host", f"{daemon.pid} on {daemon.host}"),
            ("since", _ts(daemon.started_at)),
            ("heartbeat", heartbeat),
        ]
    rows += [
        ("broker", f"{broker.broker}: {broker.connection or 'no connection'} ({broker.note})"),
        ("last order", _ts(broker.last_order_update_at)),
        ("last fill", _ts(broker.last_fill_at)),
        ("trading", trading.state),
        ("skip entry", "yes, the next entry" if trading.skip_next_entry else "no"),
        ("ratio", _override(trading.ratio_override)),
        ("hedge scale", _override(trading.hedge_scale_override)),
    ]
    _grid(console, "Daemon, broker, trading", rows)


def _override(value: float | None) -> str:
    return "no override" if value is None else f"{value:g} (override)"


def _structures(structures: Sequence[StructureView], console: Console) -> None:
    console.rule(Text(f"Open structures ({len(structures)})"), style="dim")
    for engine in Engine:
        held = [s for s in structures if s.engine == engine.value]
        if not held:
            _print(console, f"{engine.value} engine: no open structures")
            continue
        total = sum(s.unrealized_pnl or 0.0 for s in held)
        table = Table(
            title=Text(f"{engine.value} engine: {len(held)} open, unrealized {total:+,.0f}"),
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        table.add_column("id", justify="right", no_wrap=True)
        table.add_column("structure / legs / opened", no_wrap=True)
        table.add_column("open", justify="right", no_wrap=True)
        table.add_column("mark", justify="right", no_wrap=True)
        table.add_column("unreal.", justify="right", no_wrap=True)
        for s in held:
            classes = sorted({d.contract.split()[0] for d in s.leg_details})
            table.add_row(
                Text(str(s.id)),
                Text(f"{s.kind} x{s.quantity} {' '.join(classes)}\n{s.legs}\n{_ts(s.opened_at)}"),
                Text(f"{s.open_price:+.2f}"),
                Text(_mark(s)),
                Text("-" if s.unrealized_pnl is None else f"{s.unrealized_pnl:+,.0f}"),
            )
        console.print(table)
        _print(console, f"{engine.value} greeks at the marks: {_greeks_line(held)}")


def _greeks_line(held: Sequence[StructureView]) -> str:
    known = [s.greeks for s in held if s.greeks is not None]
    if not known:
        return "none journaled yet (they come with the first mark)"
    delta = sum(g.delta for g in known)
    gamma = sum(g.gamma for g in known)
    vega = sum(g.vega for g in known)
    theta = sum(g.theta for g in known)
    partial = "" if len(known) == len(held) else f" ({len(known)} of {len(held)} structures)"
    return (
        f"delta {delta:+.2f}, gamma {gamma:+.4f}, vega {vega:+,.0f} $/vol pt, "
        f"theta {theta:+,.0f} $/day{partial}"
    )


def _mark(s: StructureView) -> str:
    if s.mark is None or s.marked_at is None:
        return "not marked"
    return f"{s.mark:+.2f}\n{_stacked(s.marked_at)}"


def _stacked(value: datetime) -> str:
    """Return a time on two lines, `YYYY-MM-DD` over `HH:MM ET`, for narrow columns."""
    moment = value.astimezone(NY)
    return f"{moment:%Y-%m-%d}\n{moment:%H:%M} ET"


def _orders(orders: Sequence[OrderView], console: Console) -> None:
    console.rule(Text(f"Working orders ({len(orders)})"), style="dim")
    if not orders:
        _print(console, "none")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    numbers = ("limit", "filled", "remaining")
    for column in ("ref", "intent", "status", *numbers, "since"):
        table.add_column(column, justify="right" if column in numbers else "left")
    for o in orders:
        target = o.engine if o.structure_id is None else f"#{o.structure_id}"
        table.add_row(
            Text(o.ref),
            Text(f"{o.intent_id}: {o.intent_kind} {target}"),
            Text(o.status),
            Text(f"{o.limit_price:+.2f}"),
            Text(str(o.filled)),
            Text(str(o.remaining)),
            Text(_stacked(o.since)),
        )
    console.print(table)


def _hedge_section(report: StatusReport, console: Console) -> None:
    hedge = report.hedge
    scale_override = report.trading.hedge_scale_override is not None
    rows: list[tuple[str, str]] = []
    if hedge.as_of is None:
        rows.append(("snapshot", hedge.note))
    else:
        rows += [
            ("as of", f"{_ts(hedge.as_of)}, {hedge.as_of_job} job"),
            ("k", f"{hedge.k:.3f}, effective {hedge.k_effective:.3f}"),
        ]
    if hedge.ratio is not None:
        pinned = "pinned by an override (alvh set ratio)" if hedge.ratio_pinned else "no override"
        rows.append(("ratio", f"1:{hedge.ratio} ({pinned})"))
    if hedge.hedge_scale is not None:
        marker = " (override)" if scale_override else ""
        rows.append(("hedge scale", f"{hedge.hedge_scale:g}{marker}"))
    if hedge.r2 is not None:
        rows.append(("R2", _r2_text(hedge.r2)))
    if hedge.signals is not None:
        rows += _signal_rows(hedge.signals)
    if hedge.as_of is not None:
        rows += _rebalance_rows(hedge)
    _grid(console, "Hedge: k, ratio, signals", rows)


def _r2_text(r2: R2View) -> str:
    band = None if r2.band_low is None else f"band {r2.band_low:.2f}-{r2.band_high:.2f}"
    if r2.value is None:
        return "unknown (too few sessions)" + (f", {band}" if band else "")
    if band is None:
        return f"{r2.value:.2f} (band unknown: no strategy.hedge given)"
    return f"{r2.value:.2f}, {r2.position} the {band}"


def _signal_rows(signals: SignalsView) -> list[tuple[str, str]]:
    crossover = {1: "bullish crossover (+1)", -1: "bearish crossover (-1)"}
    rsi = "unknown" if signals.vix_rsi is None else f"{signals.vix_rsi:.1f}"
    episode = "no RSI episode"
    if signals.rsi_episode:
        since = signals.rsi_episode_start
        episode = f"{signals.rsi_episode} episode" + (f" since {since}" if since else "")
    return [
        ("signals of", "no session yet" if signals.day is None else f"session {signals.day}"),
        ("breadth", "divergence (k scaled)" if signals.breadth_divergence else "no divergence"),
        ("SPX MACD", crossover.get(signals.spx_crossover, "no crossover")),
        ("VIX RSI", f"{rsi}, {episode}"),
    ]


def _rebalance_rows(hedge: HedgeStatus) -> list[tuple[str, str]]:
    last = hedge.last_rebalance
    if last is None:
        return [("rebalance", "none journaled yet (10:30)")]
    return [
        ("rebalance", _ts(last.at)),
        ("notes", "\n".join(last.notes) or "-"),
        (
            "scenario P&L",
            f"condor {_whole(last.condor_scenario_pnl)}, "
            f"VIX layer {_whole(last.layer_scenario_pnl)}",
        ),
        ("layer cost", _cost_text(last.layer_cost_year, hedge.budget)),
    ]


def _cost_text(cost: float | None, budget: BudgetView | None) -> str:
    if budget is None:
        known = "unknown" if cost is None else f"{cost:,.0f}"
        return f"{known} over the year (budget unknown: no config or no equity row)"
    return (
        f"{budget.layer_cost_year:,.0f} over the year of a {budget.limit:,.0f} budget "
        f"({budget.budget_pct:.1%} of net liq. {budget.net_liquidation:,.0f} on "
        f"{budget.net_liquidation_day}); {budget.left:,.0f} left"
    )


def _whole(value: float | None) -> str:
    return "-" if value is None else f"{value:+,.0f}"


def _macro_section(macro: MacroStatus, console: Console) -> None:
    clock = "the journal's last day" if macro.clock == "journal" else "today"
    console.rule(Text(f"Next macro events (from {macro.from_day}, {clock})"), style="dim")
    if macro.problem is not None:
        _print(console, macro.problem)
        return
    if not macro.events:
        _print(console, "none in the macro events file")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("date", "day", "event", "time ET", "status"):
        table.add_column(column)
    for e in macro.events:
        table.add_row(e.day.isoformat(), f"{e.day:%a}", e.event, e.time_et, Text(e.status))
    console.print(table)


def _commands(views: Sequence[CommandView], console: Console) -> None:
    console.rule(Text(f"Last commands ({len(views)})"), style="dim")
    if not views:
        _print(console, "none")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("time", no_wrap=True)
    table.add_column("command")
    table.add_column("status", no_wrap=True)
    table.add_column("message", ratio=1)
    for c in views:
        table.add_row(
            Text(str(c.id)),
            Text(_ts(c.created_at)),
            Text(c.command),
            Text(c.status),
            Text(c.message),
        )
    console.print(table)


def _account(account: AccountStatus, console: Console) -> None:
    rows: list[tuple[str, str]] = []
    equity = account.equity
    if equity is None:
        rows.append(("balances", "no equity row journaled yet"))
    else:
        day_pnl = "-" if equity.day_pnl is None else f"{equity.day_pnl:+,.2f}"
        rows += [
            ("day", f"{equity.day} (journaled {_ts(equity.time)})"),
            ("net liquidation", f"{equity.net_liquidation:,.2f}"),
            ("cash", f"{equity.cash:,.2f}"),
            ("margin", f"{equity.maintenance_margin:,.2f}"),
            ("day P&L", day_pnl),
        ]
    rows += [
        ("realized P&L", f"{account.realized_pnl:+,.2f}"),
        ("unrealized P&L", f"{account.unrealized_pnl:+,.2f}"),
        ("structures", f"opened {account.structures_opened}, closed {account.structures_closed}"),
        ("fills", str(account.fills)),
    ]
    _grid(console, "Account", rows)


def _fills(views: Sequence[FillView], console: Console) -> None:
    console.rule(Text(f"Last fills ({len(views)})"), style="dim")
    if not views:
        _print(console, "none")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("time", "order ref", "side", "qty", "contract", "price"):
        table.add_column(column, justify="right" if column in ("qty", "price") else "left")
    for f in views:
        table.add_row(
            Text(_ts(f.time)),
            Text(f.order_ref),
            Text(f.side),
            Text(str(f.quantity)),
            Text(f.contract),
            Text(f"{f.price:.2f}"),
        )
    console.print(table)


def _ts(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(NY).strftime("%Y-%m-%d %H:%M ET")
