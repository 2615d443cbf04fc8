"""`alvh status`, the gathering half: what the journal says about the bot now, as one frozen value.

Modeling choices:
- One function, `gather_status`, reads the journal into a frozen `StatusReport`; the rich view
  and `--json` (bot.status_view) both render that one value, so they cannot disagree. Status
  reads only the journal, never the broker: the daemon may be connected, and a second client
  must not disturb it.
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
- Structures: the open ones, by engine. Unrealized P&L is `Structure.pnl_at` of the structure's
  latest journaled mark (its net mid per unit); a structure not yet marked has none. Legs read
  like `-P2630 +P2490 -C2795 +C2840 2018-02-23`: side sign, ratio when above 1, right and strike
  (`FUT` for a future), then the expiry once when the legs share it (else after each leg); the
  trading class leads a leg only when the legs differ in it.
- Greeks are the position greeks journaled with each structure's latest mark (delta in
  underlying units, gamma per point, vega USD per vol point, theta USD per day), summed by engine.
- Hedge: from the journal's hedge snapshots (storage.hedge_snapshots; one per 09:40 signals
  job and one per 10:30 rebalance). k, the effective k and the signals are those of the newest
  snapshot of either job ("as of" its time). The ratio and the hedge scale are what the next
  rebalance uses: the operator's override when one is set (`alvh set ratio` pins the ratio),
  else the newest snapshot's (whose ratio already is the effective one). The last rebalance
  gives its time, its notes (why k and the ratio moved), both books' scenario P&L and the
  layer's net cost over the rolling year; a signals snapshot carries none of those (its cost is
  not computed), so they always come from the newest rebalance. R2's band position (inside,
  above or below [r2_low, r2_high], the band edges inside as in strategies.hedge_rules.next_k)
  and the budget (budget_pct x the net liquidation of the last equity row, the rule of
  strategies.hedge_rules.budget_limit) need the config's `strategy.hedge`: without it they are
  null. With no snapshot yet every journaled figure is null and the note says so.
- Macro events: the next five from config/macro_events.csv (bot.daily_report reads it), from the
  "market day" on: on the simulated exchange the engine's clock is virtual and the journal's
  latest engine time (a fill, an order, a mark, an equity row, a hedge snapshot) is its only
  trace, so the day is that time's New York date; with IB, or on an empty journal, it is today
  in New York.
- Account: the last equity row (the last daily close), with the day's P&L against the row
  before it; money is rounded to cents.
- Times are tz-aware; commands and the daemon lock carry the wall clock, the rest the engine's
  clock (they differ on the simulated exchange).
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.daily_report import MACRO_EVENTS_CSV, upcoming_macro_events
from broker.calendar import NY
from broker.contracts import OptionContract
from broker.orders import Fill, Leg, Side
from broker.structures import PositionGreeks, Structure
from storage import commands, daemon_lock, hedge_snapshots
from storage.commands import Command, RuntimeState
from storage.daemon_lock import DEFAULT_STALENESS, LockHolder
from storage.hedge_snapshots import HedgeSnapshot
from storage.journal import EquityDay, Journal, JournaledOrder
from strategies.hedge_rules import budget_limit
from strategies.params import HedgeParams

NEXT_MACRO_EVENTS = 5
LAST_COMMANDS = 10
LAST_FILLS = 5
REBALANCE_JOB = "rebalance"
CONNECTION_NOTE = "as the running daemon reported it with its last heartbeat (every 30 s)"
NO_CONNECTION_NOTE = "no running daemon: no connection"
NO_SNAPSHOT_NOTE = "no hedge snapshot journaled yet: the first comes with the 09:40 signals job"
NOT_JOURNALED_ITEMS = ("reconcile runs",)


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


def r2_band_position(r2: float, low: float, high: float) -> str | None:
    """Return "above", "below" or "inside" [low, high] (edges inside), or None for NaN."""
    if math.isnan(r2):
        return None
    if r2 > high:
        return "above"
    if r2 < low:
        return "below"
    return "inside"


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
class GreeksView:
    """Position greeks: delta in underlying units, gamma per point, vega USD per vol point,
    theta USD per day."""

    delta: float
    gamma: float
    vega: float
    theta: float


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
class SignalsView:
    """The signals as of the session `day`: `spx_crossover` +1 bullish, -1 bearish, 0 none;
    `rsi_episode` "low", "high" or "" (none), begun on `rsi_episode_start`."""

    day: date | None
    breadth_divergence: bool
    spx_crossover: int
    vix_rsi: float | None
    rsi_episode: str
    rsi_episode_start: date | None


@dataclass(frozen=True)
class R2View:
    """The rolling R2 of portfolio returns against SPX and where it sits in the config's band."""

    value: float | None
    band_low: float | None
    band_high: float | None
    position: str | None  # "inside", "above", "below"; None when R2 or the band is unknown


@dataclass(frozen=True)
class RebalanceView:
    """The last rebalance: when, why k and the ratio moved, scenario P&L and the year's cost."""

    at: datetime
    notes: tuple[str, ...]
    condor_scenario_pnl: float | None
    layer_scenario_pnl: float | None
    layer_cost_year: float | None


@dataclass(frozen=True)
class BudgetView:
    """The VIX layer's cost over the rolling year against budget_pct x the last net liquidation."""

    budget_pct: float
    net_liquidation: float
    net_liquidation_day: date
    limit: float
    layer_cost_year: float
    left: float


@dataclass(frozen=True)
class HedgeStatus:
    """k, the ratio, the signals and R2 from the hedge snapshots (null before the first)."""

    as_of: datetime | None
    as_of_job: str | None
    k: float | None
    k_effective: float | None
    ratio: int | None
    ratio_source: str | None  # "override", "snapshot", or None when neither exists
    ratio_pinned: bool
    hedge_scale: float | None
    signals: SignalsView | None
    r2: R2View | None
    last_rebalance: RebalanceView | None
    budget: BudgetView | None
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
    hedge_params: HedgeParams | None = None,
) -> StatusReport:
    """Read the journal into a StatusReport (never the broker).

    `hedge_params` is the config's `strategy.hedge`: R2's band and the layer's budget come from
    it (null without it). The top-level keys, in the JSON of `status_json` as in the dataclass:
    `generated_at` (wall clock), `journal` (its URL, password hidden), `daemon` (state, pid,
    host, started_at, heartbeat_at, heartbeat_age_seconds, stale_reason, summary), `broker`
    (broker, connection or null, note, last_heartbeat_at, last_order_update_at, last_fill_at),
    `trading` (state, paused, killed, skip_next_entry, ratio_override, hedge_scale_override),
    `structures` (open ones: id, engine, kind, quantity, multiplier, opened_at, open_price, legs,
    leg_details, mark, marked_at, unrealized_pnl, greeks: {delta, gamma, vega, theta} or null),
    `working_orders` (ref, intent_id, intent_kind, engine, structure_id, status, quantity,
    filled, remaining, limit_price, since, updated_at), `hedge` (as_of, as_of_job, k,
    k_effective, ratio, ratio_source, ratio_pinned, hedge_scale, signals: {day,
    breadth_divergence, spx_crossover, vix_rsi, rsi_episode, rsi_episode_start} or null, r2:
    {value, band_low, band_high, position} or null, last_rebalance: {at, notes,
    condor_scenario_pnl, layer_scenario_pnl, layer_cost_year} or null, budget: {budget_pct,
    net_liquidation, net_liquidation_day, limit, layer_cost_year, left} or null, note),
    `macro_events` (from_day, clock, events, problem), `commands` (the last ten, newest
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
    equity = _equity(journal.last_equity_days(2))
    newest = hedge_snapshots.latest(journal.engine)
    rebalance = hedge_snapshots.latest(journal.engine, REBALANCE_JOB)
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
        hedge=hedge_status(newest, rebalance, runtime, hedge_params, equity),
        macro_events=_macro(journal, newest, now, broker, macro_events_csv),
        commands=tuple(_command(c) for c in commands.commands(journal.engine, LAST_COMMANDS)),
        account=AccountStatus(
            equity=equity,
            realized_pnl=_cents(journal.realized_pnl()),
            unrealized_pnl=_cents(sum(s.unrealized_pnl or 0.0 for s in structures)),
            structures_opened=counts.get("opened", 0),
            structures_closed=counts.get("closed", 0),
            fills=journal.fill_count(),
        ),
        last_fills=tuple(_fill(f) for f in fills),
        not_journaled=NOT_JOURNALED_ITEMS,
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


# -- the hedge ------------------------------------------------------------------------------


def hedge_status(
    newest: HedgeSnapshot | None,
    rebalance: HedgeSnapshot | None,
    runtime: RuntimeState,
    params: HedgeParams | None,
    equity: EquityView | None,
) -> HedgeStatus:
    """Return the hedge section from the newest snapshot and the newest rebalance (see the
    module docstring for which figure comes from which)."""
    ratio: int | None = runtime.ratio
    source: str | None = "override" if ratio is not None else None
    if ratio is None and newest is not None:
        ratio, source = newest.ratio, "snapshot"
    hedge_scale = runtime.hedge_scale
    if hedge_scale is None and newest is not None:
        hedge_scale = newest.hedge_scale
    pinned = runtime.ratio is not None
    if newest is None:
        return HedgeStatus(
            as_of=None,
            as_of_job=None,
            k=None,
            k_effective=None,
            ratio=ratio,
            ratio_source=source,
            ratio_pinned=pinned,
            hedge_scale=hedge_scale,
            signals=None,
            r2=None,
            last_rebalance=None,
            budget=None,
            note=NO_SNAPSHOT_NOTE,
        )
    return HedgeStatus(
        as_of=newest.at,
        as_of_job=newest.job,
        k=round(newest.k, 6),
        k_effective=round(newest.k_effective, 6),
        ratio=ratio,
        ratio_source=source,
        ratio_pinned=pinned,
        hedge_scale=hedge_scale,
        signals=_signals(newest),
        r2=_r2(newest.signals.r2, params),
        last_rebalance=_rebalance(rebalance) if rebalance is not None else None,
        budget=_budget(rebalance, params, equity),
        note=_hedge_note(newest, rebalance, params),
    )


def _signals(snapshot: HedgeSnapshot) -> SignalsView:
    s = snapshot.signals
    return SignalsView(
        day=s.day,
        breadth_divergence=s.breadth_divergence,
        spx_crossover=s.spx_crossover,
        vix_rsi=round(s.vix_rsi, 2) if math.isfinite(s.vix_rsi) else None,
        rsi_episode=s.rsi_episode,
        rsi_episode_start=s.rsi_episode_start,
    )


def _r2(r2: float, params: HedgeParams | None) -> R2View:
    value = round(r2, 4) if math.isfinite(r2) else None
    if params is None:
        return R2View(value, None, None, None)
    position = r2_band_position(r2, params.r2_low, params.r2_high) if value is not None else None
    return R2View(value, params.r2_low, params.r2_high, position)


def _rebalance(snapshot: HedgeSnapshot) -> RebalanceView:
    return RebalanceView(
        at=snapshot.at,
        notes=tuple(note for note in snapshot.notes.split("; ") if note),
        condor_scenario_pnl=_cents_or_none(snapshot.condor_scenario_pnl),
        layer_scenario_pnl=_cents_or_none(snapshot.layer_scenario_pnl),
        layer_cost_year=_cents_or_none(snapshot.layer_cost_year),
    )


def _budget(
    rebalance: HedgeSnapshot | None, params: HedgeParams | None, equity: EquityView | None
) -> BudgetView | None:
    if rebalance is None or params is None or equity is None:
        return None
    cost = rebalance.layer_cost_year
    if cost is None:
        return None
    limit = budget_limit(equity.net_liquidation, params)
    return BudgetView(
        budget_pct=params.budget_pct,
        net_liquidation=equity.net_liquidation,
        net_liquidation_day=equity.day,
        limit=_cents(limit),
        layer_cost_year=_cents(cost),
        left=_cents(limit - cost),
    )


def _hedge_note(
    newest: HedgeSnapshot, rebalance: HedgeSnapshot | None, params: HedgeParams | None
) -> str:
    parts = [
        f"k and the signals as of the {newest.job} job; the ratio and the hedge scale are the "
        "overrides when set"
    ]
    if rebalance is None:
        parts.append("no rebalance journaled yet (10:30)")
    if params is None:
        parts.append("the R2 band and the budget need the config's strategy.hedge")
    return "; ".join(parts)


# -- the rest -------------------------------------------------------------------------------


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
        unrealized_pnl=_cents(structure.pnl_at(mark[0])) if mark else None,
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


def _macro(
    journal: Journal,
    newest: HedgeSnapshot | None,
    now: datetime,
    broker: str,
    csv: Path | None,
) -> MacroStatus:
    engine_time = None
    if broker == "sim":
        known = [t for t in (journal.last_market_time(), newest.at if newest else None) if t]
        engine_time = max(known) if known else None
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


def _cents_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else _cents(value)
