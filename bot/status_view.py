"""`alvh status`: what the journal says about the bot now, as rich tables or as JSON.

Modeling choices:
- One function, `gather_status`, reads the journal into a frozen `StatusReport`; the rich view
  (`render_status`) and `--json` (`status_json`) both render that one value, so they cannot
  disagree. Status reads only the journal, never the broker: the daemon may be connected, and a
  second client must not disturb it.
- Daemon: the journal's daemon lock (storage.daemon_lock). No row is "not running"; a row whose
  pid is gone from this host, or whose heartbeat is older than the staleness, is "stale" (the
  next `alvh run` takes it over); otherwise "running", with pid, host, start and heartbeat age on
  the wall clock. Either way status exits 0.
- Broker connection: the state the running daemon reported with its last heartbeat
  (connected, unavailable with the venue's error, disconnected; "not reported yet" before the
  first beat; none when no daemon runs), plus the last order update and the last fill on the
  engine's clock. Reconcile runs are not journaled.
- Trading state comes from `runtime_state`: killed outranks paused, paused outranks active. The
  ratio and hedge-scale overrides are shown when set.
- Structures: the open ones, by engine. Unrealized P&L is (mark - open price) x multiplier x
  quantity from the structure's latest journaled mark (its net mid per unit); a structure not
  yet marked has none. Legs read like `-P2630 +P2490 -C2795 +C2840 2018-02-23`: side sign,
  ratio when above 1, right and strike (`FUT` for a future), then the expiry once when the legs
  share it (else after each leg); the trading class leads a leg only when the legs differ in it.
- Greeks are the position greeks journaled with each structure's latest mark (delta in
  underlying units, gamma per point, vega USD per vol point, theta USD per day), summed by engine.
- k, the hedge ratio and the signals are not journaled yet: JSON gives null and lists
  them under `not_journaled`; the rich view says so. Nothing is computed from nothing: the only
  ratio shown is an override set with `alvh set ratio`.
- Macro events: the next five from config/macro_events.csv (bot.daily_report reads it), from the
  "market day" on: on the simulated exchange the engine's clock is virtual and the journal's
  latest engine time (a fill, an order, a mark, an equity row) is its only trace, so the day is
  that time's New York date; with IB, or on an empty journal, it is today in New York.
- Account: the last equity row (the last daily close), with the day's P&L against the row
  before it; money is rounded to cents.
- Times: JSON gives ISO 8601 in America/New_York with the offset; the rich view shows
  `YYYY-MM-DD HH:MM ET`. Commands and the daemon lock carry the wall clock, the rest the
  engine's clock (they differ on the simulated exchange).
- Layout for an 80-column terminal: one narrow table per engine whose structure cell stacks the
  kind, the compact legs and the opening time, and whose mark cell stacks the mark and its time;
  nothing is printed with soft wrap, so rich folds every line to the console's width.
"""

from __future__ import annotations

import json
import math
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from broker.calendar import NY
from broker.contracts import OptionContract
from broker.orders import Fill, Leg, Side
from broker.structures import Engine, PositionGreeks, Structure
from storage import commands, daemon_lock
from storage.commands import Command, RuntimeState
from storage.daemon_lock import DEFAULT_STALENESS, LockHolder
from storage.journal import EquityDay, Journal, JournaledOrder

NEXT_MACRO_EVENTS = 5
LAST_COMMANDS = 10
LAST_FILLS = 5
NOT_JOURNALED = "not journaled yet"
CONNECTION_NOTE = "as the running daemon reported it with its last heartbeat (every 30 s)"
NO_CONNECTION_NOTE = "no running daemon: no connection"
NOT_JOURNALED_ITEMS = ("reconcile runs", "k", "signals")


def unrealized_pnl(structure: Structure, mark: float) -> float:
    """Return the P&L of holding `structure` if it were valued at `mark` per unit."""
    return (mark - structure.open_price) * structure.multiplier * structure.quantity


def daemon_line(
    holder: LockHolder | None,
    now: datetime,
    *,
    host: str,
    staleness: timedelta = DEFAULT_STALENESS,
) -> str:
    """Return the daemon's pid and heartbeat age, or say that no daemon runs."""
    if holder is None:
        return "daemon not running"
    why = daemon_lock.stale_reason(holder, now=now, host=host, pid=os.getpid(), staleness=staleness)
    if why is not None:
        return (
            f"daemon not running (a stale lock names pid {holder.pid} on {holder.host}: {why}; "
            "the next `alvh run` takes it over)"
        )
    return f"daemon running: {holder.describe(now)}"


def compact_legs(legs: Sequence[Leg]) -> str:
    """Return legs as `-P2630 +P2490 -C2795 +C2840 2018-02-23` (see the module docstring)."""
    if not legs:
        return ""
    shared_class = len({leg.contract.trading_class for leg in legs}) == 1
    expiries = {leg.contract.expiry for leg in legs}
    tokens = []
    for leg in legs:
        token = _leg_token(leg)
        if not shared_class:
            token = f"{leg.contract.trading_class} {token}"
        if len(expiries) > 1:
            token = f"{token} {leg.contract.expiry.isoformat()}"
        tokens.append(token)
    if len(expiries) == 1:
        tokens.append(next(iter(expiries)).isoformat())
    return " ".join(tokens)


def _leg_token(leg: Leg) -> str:
    sign = "+" if leg.side is Side.BUY else "-"
    ratio = "" if leg.ratio == 1 else str(leg.ratio)
    contract = leg.contract
    if isinstance(contract, OptionContract):
        return f"{sign}{ratio}{contract.right.value}{contract.strike:g}"
    return f"{sign}{ratio}FUT"


# -- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DaemonStatus:
    """The daemon lock's holder: state is `running`, `stale` or `not running`."""

    state: str
    summary: str
    pid: int | None = None
    host: str | None = None
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    heartbeat_age_seconds: float | None = None
    stale_reason: str | None = None


@dataclass(frozen=True)
class BrokerStatus:
    """The broker connection as the running daemon reported it with its heartbeat."""

    broker: str
    connection: str | None
    note: str
    last_heartbeat_at: datetime | None
    last_order_update_at: datetime | None
    last_fill_at: datetime | None


@dataclass(frozen=True)
class TradingStatus:
    """The overrides' runtime state; `state` is `killed`, `paused` or `active`."""

    state: str
    paused: bool
    killed: bool
    skip_next_entry: bool
    ratio_override: int | None
    hedge_scale_override: float | None


@dataclass(frozen=True)
class LegView:
    """One leg per unit: BUY or SELL, contracts per unit, the contract's key."""

    side: str
    ratio: int
    contract: str


@dataclass(frozen=True)
class StructureView:
    """An open structure with its latest mark and unrealized P&L (None until marked)."""

    id: int
    engine: str
    kind: str
    quantity: int
    multiplier: int
    opened_at: datetime
    open_price: float
    legs: str
    leg_details: tuple[LegView, ...]
    mark: float | None
    marked_at: datetime | None
    unrealized_pnl: float | None
    greeks: GreeksView | None = None  # at the latest mark; None until marked with greeks


@dataclass(frozen=True)
class GreeksView:
    """Position greeks: delta in underlying units, gamma per point, vega USD per vol point,
    theta USD per day."""

    delta: float
    gamma: float
    vega: float
    theta: float


@dataclass(frozen=True)
class OrderView:
    """An order whose latest journaled state is pending, working or partial."""

    ref: str
    intent_id: int
    intent_kind: str
    engine: str
    structure_id: int | None
    status: str
    quantity: int
    filled: int
    remaining: int
    limit_price: float
    since: datetime
    updated_at: datetime


@dataclass(frozen=True)
class HedgeStatus:
    """k, the hedge ratio and the signals: only the overrides are journaled today."""

    k: float | None
    ratio: int | None
    ratio_source: str
    hedge_scale: float | None
    signals: dict[str, float] | None
    note: str


@dataclass(frozen=True)
class MacroEventView:
    """One scheduled release: its day, kind, time in ET and how sure the date is."""

    day: date
    event: str
    time_et: str
    status: str


@dataclass(frozen=True)
class MacroStatus:
    """The next macro events from `from_day` on (`clock` says which clock chose that day)."""

    from_day: date
    clock: str
    events: tuple[MacroEventView, ...]
    problem: str | None


@dataclass(frozen=True)
class CommandView:
    """An override command and the daemon's answer."""

    id: int
    created_at: datetime
    command: str
    verb: str
    status: str
    message: str
    applied_at: datetime | None
    requested_by: str


@dataclass(frozen=True)
class EquityView:
    """The last journaled balances (a daily close) and the change since the row before."""

    day: date
    time: datetime
    net_liquidation: float
    cash: float
    maintenance_margin: float
    day_pnl: float | None


@dataclass(frozen=True)
class AccountStatus:
    """Balances, P&L and counts from the journal."""

    equity: EquityView | None
    realized_pnl: float
    unrealized_pnl: float
    structures_opened: int
    structures_closed: int
    fills: int


@dataclass(frozen=True)
class FillView:
    """One execution."""

    time: datetime
    order_ref: str
    exec_id: str
    side: str
    quantity: int
    contract: str
    price: float
    commission: float


@dataclass(frozen=True)
class StatusReport:
    """Everything `alvh status` shows; see `gather_status` for the JSON keys."""

    generated_at: datetime
    journal: str
    daemon: DaemonStatus
    broker: BrokerStatus
    trading: TradingStatus
    structures: tuple[StructureView, ...]
    working_orders: tuple[OrderView, ...]
    hedge: HedgeStatus
    macro_events: MacroStatus
    commands: tuple[CommandView, ...]
    account: AccountStatus
    last_fills: tuple[FillView, ...]
    not_journaled: tuple[str, ...]


def gather_status(
    journal: Journal,
    *,
    now: datetime | None = None,
    broker: str = "sim",
    journal_label: str = "",
    host: str | None = None,
    staleness: timedelta = DEFAULT_STALENESS,
    macro_events_csv: Path | None = None,
) -> StatusReport:
    """Read the journal into a StatusReport (never the broker).

    The top-level keys, in the JSON of `status_json` as in the dataclass:
    `generated_at` (wall clock), `journal` (its URL, password hidden), `daemon` (state, pid,
    host, started_at, heartbeat_at, heartbeat_age_seconds, stale_reason, summary), `broker`
    (broker, connection or null, note, last_heartbeat_at, last_order_update_at, last_fill_at),
    `trading` (state, paused, killed, skip_next_entry, ratio_override, hedge_scale_override),
    `structures` (open ones: id, engine, kind, quantity, multiplier, opened_at, open_price, legs,
    leg_details, mark, marked_at, unrealized_pnl, greeks: {delta, gamma, vega, theta} or null),
    `working_orders` (ref,
    intent_id, intent_kind, engine, structure_id, status, quantity, filled, remaining,
    limit_price, since, updated_at), `hedge` (k, ratio, ratio_source, hedge_scale, signals,
    note), `macro_events` (from_day, clock, events, problem), `commands` (the last ten, newest
    first), `account` (equity: the last row or null, realized_pnl, unrealized_pnl,
    structures_opened, structures_closed, fills), `last_fills` (newest first) and
    `not_journaled` (what the journal does not hold yet).
    """
    now = now or datetime.now(UTC)
    holder = daemon_lock.current_holder(journal.engine)
    daemon = _daemon(holder, now, host or socket.gethostname(), staleness)
    runtime = commands.runtime_state(journal.engine)
    marks = journal.open_marks()
    greeks = journal.open_greeks()
    structures = tuple(
        _structure(s, marks.get(s.id), greeks.get(s.id)) for s in journal.open_structures()
    )
    fills = journal.last_fills(LAST_FILLS)
    counts = journal.structure_counts()
    return StatusReport(
        generated_at=now,
        journal=journal_label,
        daemon=daemon,
        broker=BrokerStatus(
            broker=broker,
            connection=_connection(journal, daemon),
            note=CONNECTION_NOTE if daemon.state == "running" else NO_CONNECTION_NOTE,
            last_heartbeat_at=holder.heartbeat_at if holder else None,
            last_order_update_at=journal.last_order_update(),
            last_fill_at=fills[0].time if fills else None,
        ),
        trading=_trading(runtime),
        structures=structures,
        working_orders=tuple(_order(o) for o in journal.working_orders()),
        hedge=_hedge(runtime),
        macro_events=_macro(journal, now, broker, macro_events_csv),
        commands=tuple(_command(c) for c in commands.commands(journal.engine, LAST_COMMANDS)),
        account=AccountStatus(
            equity=_equity(journal.last_equity_days(2)),
            realized_pnl=_cents(journal.realized_pnl()),
            unrealized_pnl=_cents(sum(s.unrealized_pnl or 0.0 for s in structures)),
            structures_opened=counts.get("opened", 0),
            structures_closed=counts.get("closed", 0),
            fills=journal.fill_count(),
        ),
        last_fills=tuple(_fill(f) for f in fills),
        not_journaled=NOT_JOURNALED_ITEMS + (() if runtime.ratio is not None else ("hedge ratio",)),
    )


def _connection(journal: Journal, daemon: DaemonStatus) -> str | None:
    """Return the broker state the running daemon last reported ("not reported yet" before
    its first heartbeat); None when no daemon runs."""
    if daemon.state != "running":
        return None
    return daemon_lock.broker_state(journal.engine) or "not reported yet"


def _daemon(
    holder: LockHolder | None, now: datetime, host: str, staleness: timedelta
) -> DaemonStatus:
    summary = daemon_line(holder, now, host=host, staleness=staleness)
    if holder is None:
        return DaemonStatus(state="not running", summary=summary)
    why = daemon_lock.stale_reason(holder, now=now, host=host, pid=os.getpid(), staleness=staleness)
    return DaemonStatus(
        state="running" if why is None else "stale",
        summary=summary,
        pid=holder.pid,
        host=holder.host,
        started_at=holder.started_at,
        heartbeat_at=holder.heartbeat_at,
        heartbeat_age_seconds=round(max(0.0, (now - holder.heartbeat_at).total_seconds()), 1),
        stale_reason=why,
    )


def _trading(runtime: RuntimeState) -> TradingStatus:
    state = "killed" if runtime.killed else "paused" if runtime.paused else "active"
    return TradingStatus(
        state=state,
        paused=runtime.paused,
        killed=runtime.killed,
        skip_next_entry=runtime.skip_next_entry,
        ratio_override=runtime.ratio,
        hedge_scale_override=runtime.hedge_scale,
    )


def _hedge(runtime: RuntimeState) -> HedgeStatus:
    return HedgeStatus(
        k=None,
        ratio=runtime.ratio,
        ratio_source="override" if runtime.ratio is not None else NOT_JOURNALED,
        hedge_scale=runtime.hedge_scale,
        signals=None,
        note=f"k, the hedge ratio and the signals are {NOT_JOURNALED}; overrides are shown",
    )


def _structure(
    structure: Structure,
    mark: tuple[float, datetime] | None,
    greeks: PositionGreeks | None = None,
) -> StructureView:
    return StructureView(
        id=structure.id,
        engine=structure.engine.value,
        kind=structure.kind.value,
        quantity=structure.quantity,
        multiplier=structure.multiplier,
        opened_at=structure.opened_at,
        open_price=structure.open_price,
        legs=compact_legs(structure.legs),
        leg_details=tuple(
            LegView(leg.side.value, leg.ratio, leg.contract.key) for leg in structure.legs
        ),
        mark=round(mark[0], 4) if mark else None,
        marked_at=mark[1] if mark else None,
        unrealized_pnl=_cents(unrealized_pnl(structure, mark[0])) if mark else None,
        greeks=_greeks_view(greeks) if greeks else None,
    )


def _greeks_view(g: PositionGreeks) -> GreeksView:
    return GreeksView(round(g.delta, 4), round(g.gamma, 6), _cents(g.vega), _cents(g.theta))


def _order(order: JournaledOrder) -> OrderView:
    return OrderView(
        ref=order.ref,
        intent_id=order.intent_id,
        intent_kind=order.intent_kind,
        engine=order.engine.value,
        structure_id=order.structure_id,
        status=order.status.value,
        quantity=order.quantity,
        filled=order.filled,
        remaining=order.remaining,
        limit_price=order.limit_price,
        since=order.placed_at,
        updated_at=order.updated_at,
    )


def _macro(journal: Journal, now: datetime, broker: str, csv: Path | None) -> MacroStatus:
    # Imported here: bot.daily_report imports this module (unrealized_pnl) at its top.
    from bot.daily_report import MACRO_EVENTS_CSV, upcoming_macro_events

    engine_time = journal.last_market_time() if broker == "sim" else None
    clock = "journal" if engine_time is not None else "wall clock"
    from_day = (engine_time or now).astimezone(NY).date()
    found = upcoming_macro_events(
        csv or MACRO_EVENTS_CSV, from_day - timedelta(days=1), NEXT_MACRO_EVENTS
    )
    if isinstance(found, str):
        return MacroStatus(from_day, clock, (), found)
    events = tuple(MacroEventView(e.day, e.kind, e.time_et, e.status) for e in found)
    return MacroStatus(from_day, clock, events, None)


def _command(command: Command) -> CommandView:
    return CommandView(
        id=command.id,
        created_at=command.created_at,
        command=command.describe(),
        verb=command.verb.value,
        status=command.status.value,
        message=command.message,
        applied_at=command.applied_at,
        requested_by=command.requested_by,
    )


def _equity(days: Sequence[EquityDay]) -> EquityView | None:
    if not days:
        return None
    last = days[0]
    previous = days[1] if len(days) > 1 else None
    return EquityView(
        day=last.day,
        time=last.time,
        net_liquidation=_cents(last.net_liquidation),
        cash=_cents(last.cash),
        maintenance_margin=_cents(last.maintenance_margin),
        day_pnl=None
        if previous is None
        else _cents(last.net_liquidation - previous.net_liquidation),
    )


def _fill(fill: Fill) -> FillView:
    return FillView(
        time=fill.time,
        order_ref=fill.order_ref,
        exec_id=fill.exec_id,
        side=fill.side.value,
        quantity=fill.quantity,
        contract=fill.contract.key,
        price=fill.price,
        commission=fill.commission,
    )


def _cents(value: float) -> float:
    return round(value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0


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
    _hedge_section(report.hedge, console)
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


def _hedge_section(hedge: HedgeStatus, console: Console) -> None:
    ratio = NOT_JOURNALED if hedge.ratio is None else f"{hedge.ratio} ({hedge.ratio_source})"
    rows = [
        ("k", NOT_JOURNALED if hedge.k is None else f"{hedge.k:g}"),
        ("ratio", ratio),
        ("signals", NOT_JOURNALED if hedge.signals is None else json.dumps(hedge.signals)),
    ]
    _grid(console, "k, ratio, signals", rows)


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
