"""One engine cycle: snapshot -> decide -> risk check -> execute -> journal.

`run_job` is the table of contents of what each scheduled job does; one job runs at a
time, and the errors the bot expects are caught here, in one place. Override commands
(bot/overrides.py) run through `before_job` at the start of every job and through
`between_jobs`, both under the same lock, so never during a cycle; a cycle screens its intents
against the runtime state they set (paused, killed, skip the next entry).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import structlog

from bot.clock import Clock
from bot.config import AppConfig
from bot.day_log_child import write_day_log_off_the_loop
from bot.executor import Executor, Outcome
from bot.hedge_context import (
    hedge_state,
    layer_cost_year,
    load_events,
    previous_close,
    todays_signals,
)
from bot.hedge_rebalance import rebalanced, record_hedge, with_roll_chains
from bot.jobs import JobName
from bot.overrides import screen_intents
from bot.reconcile import reconcile
from bot.snapshots import SnapshotNeeds, market_snapshot
from broker.calendar import NY, default_calendar
from broker.errors import BrokerUnavailable, LiveTradingRefused
from broker.market import MarketSnapshot
from broker.orders import Order
from broker.paper_guard import ensure_paper
from broker.protocol import Broker
from broker.structures import Intent, IntentKind, Structure
from storage import commands, hedge_snapshots
from storage.commands import RuntimeState
from storage.hedge_snapshots import HedgeSnapshot
from storage.journal import Journal
from strategies.decide import decide_entry, decide_hedge, decide_management, decide_rolls
from strategies.decision import Decision, PortfolioState
from strategies.hedge_state import Signals
from strategies.params import StrategyParams
from strategies.pricing_of_legs import leg_problems, net_mid, position_greeks
from strategies.risk import check_intent
from strategies.signals.macro_calendar import MacroEvent

log = structlog.get_logger("alvh.engine")

DecideFn = Callable[[MarketSnapshot, PortfolioState, StrategyParams, datetime], Decision]
T = TypeVar("T")
SESSIONS_AHEAD = timedelta(days=550)


class TradingEngine:
    """Runs the scheduled jobs against one broker and one journal."""

    def __init__(
        self,
        broker: Broker,
        journal: Journal,
        clock: Clock,
        config: AppConfig,
        allow_live_cli: bool = False,
        port: int | None = None,
    ) -> None:
        self.broker = broker
        self.allow_live_cli = allow_live_cli
        self.port = port
        self.journal = journal
        self.clock = clock
        self.config = config
        self.executor = Executor(broker, journal, clock, config.execution)
        self._lock = asyncio.Lock()
        self.cycles = 0
        self.broker_state = "not connected"  # reported with the daemon's heartbeat
        # the paper guard's refusal of the account met after a reconnect, and who to tell
        self.refused: LiveTradingRefused | None = None
        self.on_refused: Callable[[], None] | None = None
        self.before_job: Callable[[], Awaitable[object]] | None = None  # pending commands
        self.signals: Signals | None = None  # the signals job's result (computed on demand)
        self.calendar = default_calendar()
        self.marks_every = timedelta(0)  # replay thins mark writes (bot/replay.py)
        # A replay (no command channel: nothing but this engine writes the runtime state)
        # keeps the runtime state between cycles; the daemon reads it every cycle.
        self.cache_runtime = False
        self._runtime: RuntimeState | None = None
        # the last cycle's structures and quotes, valued only when written (`_flush_marks`)
        self._pending_marks: tuple[tuple[Structure, ...], MarketSnapshot] | None = None
        self._marks_written: datetime | None = None
        # (day, previous close's net liquidation, last rebalance): read once per day
        self._day: tuple[date, float | None, HedgeSnapshot | None] | None = None
        self._events_cache: tuple[tuple[str, int | None], tuple[MacroEvent, ...]] | None = None

    async def start(self) -> None:
        """Connect, refuse a live account, and reconcile: one path after a stop or a crash."""
        await self.broker.connect()
        self.broker_state = "connected"
        await self._ensure_paper()
        async with self._lock:
            await reconcile(self.broker, self.journal, self.executor, self.clock)

    async def after_reconnect(self) -> None:
        """Check the paper guard again, then reconcile (the broker's reconnect hook).

        A gateway restarted overnight may come back logged in to another account. If the guard
        refuses it, the engine sends no order from then on (jobs are not run, intents are
        refused) and `on_refused` is told, so that the daemon stops with the refusal.
        """
        async with self._lock:
            try:
                await self._ensure_paper()
            except LiveTradingRefused as exc:
                self.refused = exc
                self.broker_state = "refused: not a paper account or port"
                if self.on_refused is not None:
                    self.on_refused()
                return
        log.info("reconnected: reconciling the journal with the account again")
        await self.run_job(JobName.RECONCILE)

    async def _ensure_paper(self) -> None:
        """Raise LiveTradingRefused for a live account or port without the double opt-in."""
        account = await self.broker.account()
        try:
            ensure_paper(
                account.account_id, self.port, self.config.account.allow_live, self.allow_live_cli
            )
        except LiveTradingRefused as exc:  # in the JSON log too: an unattended daemon says why
            log.error("refusing to trade", reason=str(exc), account=account.account_id)
            raise

    async def stop(self) -> None:
        """Wait for the running job to finish, then disconnect."""
        async with self._lock:
            await self.broker.disconnect()
            self.broker_state = "disconnected"

    async def run_job(self, name: JobName) -> None:
        """Run one scheduled job; never two at once."""
        async with self._lock:
            self.cycles += 1
            context = structlog.contextvars.bound_contextvars(
                at=self.clock.now().astimezone(NY).isoformat(timespec="seconds"), job=name.value
            )
            with context:
                if self.refused is not None:
                    log.error("job not run: trading refused", reason=str(self.refused))
                    return
                if self.before_job is not None:
                    self._runtime = None  # commands may change it
                    await self.before_job()
                await self._run_job(name)

    async def between_jobs(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` under the job lock: after the running job, before the next one."""
        async with self._lock:
            self._runtime = None  # commands may change it
            return await work()

    async def _run_job(self, name: JobName) -> None:
        """Dispatch a job; a venue outage skips it (the next trigger retries)."""
        try:
            if name is JobName.RECONCILE:
                await reconcile(self.broker, self.journal, self.executor, self.clock)
            elif name is JobName.SIGNALS:
                await self._signals()
            elif name is JobName.CONDOR_ENTRY:
                await self._cycle(decide_entry, name)
            elif name is JobName.ROLLS:
                await self._cycle(decide_rolls, name)
            elif name is JobName.HEDGE:
                await self._cycle(decide_hedge, name)
            elif name is JobName.MANAGE:
                await self._cycle(decide_management, name)
            elif name is JobName.DAILY_CLOSE:
                await self._daily_close()
        except BrokerUnavailable as exc:
            self.broker_state = f"unavailable: {exc}"
            log.warning("job skipped: venue unavailable", error=str(exc))
        else:
            self.broker_state = "connected"

    async def portfolio(
        self, now: datetime, layer_cost: bool = False, runtime: RuntimeState | None = None
    ) -> PortfolioState:
        """Return the account, the open structures, the hedge state and the macro calendar.

        The layer's cost over the year is computed only when asked (the hedge jobs need it);
        the previous close and the last rebalance are read once per day.
        """
        account = await self.broker.account()
        if self.signals is None:
            self.signals = await todays_signals(self.broker, self.journal, self.config.strategy)
        today = now.astimezone(NY).date()
        if self._day is None or self._day[0] != today:
            last = hedge_snapshots.latest(self.journal.engine, "rebalance")
            self._day = (today, previous_close(self.journal, today), last)
        hedge = hedge_state(
            self._day[2],
            account,
            self.signals,
            runtime or self.runtime_state(),
            self.config.strategy,
            previous_nlv=self._day[1],
            cost_year=layer_cost_year(self.journal, now) if layer_cost else 0.0,
        )
        structures = tuple(self.journal.open_structures())
        return PortfolioState(account, structures, hedge, self._events())

    def runtime_state(self) -> RuntimeState:
        """Return the runtime state the overrides set: read each cycle, or kept (`cache_runtime`)
        until this engine writes it or runs commands."""
        if self.cache_runtime and self._runtime is not None:
            return self._runtime
        state = commands.runtime_state(self.journal.engine)
        self._runtime = state if self.cache_runtime else None
        return state

    def _events(self) -> tuple[MacroEvent, ...]:
        """Return the macro calendar, read again whenever its file changes (`alvh events add`)."""
        path = self.config.calendar.events_path
        try:
            modified: int | None = path.stat().st_mtime_ns
        except (FileNotFoundError, NotADirectoryError):
            modified = None  # load_events says so, naming the file
        stamp = (str(path), modified)
        if self._events_cache is None or self._events_cache[0] != stamp:
            self._events_cache = (stamp, load_events(path))
        return self._events_cache[1]

    def sessions(self, now: datetime) -> tuple[date, ...]:
        """Return the trading days from today on (about a year and a half)."""
        today = now.astimezone(NY).date()
        end = min(today + SESSIONS_AHEAD, self.calendar.end)
        return tuple(self.calendar.trading_days(today, end))

    async def _signals(self) -> None:
        now = self.clock.now().astimezone(NY)
        self.signals = await todays_signals(self.broker, self.journal, self.config.strategy)
        state = await self.portfolio(now)
        record_hedge(self.journal, "signals", state, self.config.strategy, now)
        s = self.signals
        log.info(
            "signals",
            day=s.day.isoformat() if s.day else None,
            breadth_divergence=s.breadth_divergence,
            spx_crossover=s.spx_crossover,
            vix_rsi=round(s.vix_rsi, 1),
            rsi_episode=s.rsi_episode or None,
            r2=round(s.r2, 3),
        )

    async def _cycle(self, decide: DecideFn, job: JobName) -> None:
        now = self.clock.now().astimezone(NY)
        params = self.config.strategy
        hedging = job in (JobName.HEDGE, JobName.ROLLS)
        runtime = self.runtime_state()  # commands apply between jobs
        state = await self.portfolio(now, hedging, runtime)
        notes: tuple[str, ...] = ()
        if job is JobName.HEDGE:
            state, notes = rebalanced(state, self.journal, params, now)
        needs = SnapshotNeeds(
            params.condor,
            entry=job is JobName.CONDOR_ENTRY,
            vix=params.vix if hedging else None,
        )
        snapshot = await market_snapshot(
            self.broker, state.structures, now, needs, self.sessions(now)
        )
        snapshot = await with_roll_chains(self.broker, snapshot, state, params.condor)
        self._record_marks(state, snapshot)
        decision = decide(snapshot, state, params, now)
        if job is JobName.HEDGE:
            record_hedge(self.journal, "rebalance", state, params, now, snapshot, notes)
            self._day = None  # the next cycle reads this rebalance back
        for skipped in decision.skips:
            log.info("skip", action=skipped.action, reason=skipped.reason)
        entry = job is JobName.CONDOR_ENTRY
        intents, screened = screen_intents(decision.intents, runtime, entry)
        for skipped in screened:
            log.info("skip", action=skipped.action, reason=skipped.reason)
        if entry and runtime.skip_next_entry:  # this entry window was the one to skip
            commands.set_runtime(self.journal.engine, {"skip_next_entry": False})
            self._runtime = None
        for intent in intents:
            await self.execute_checked(intent, state, now)
            state = await self.portfolio(now, hedging, runtime)

    async def execute_checked(
        self, intent: Intent, state: PortfolioState, now: datetime
    ) -> Outcome | None:
        """Risk-check an intent and execute it; journal a refusal and return None."""
        if self.refused is not None:  # the paper guard, after a reconnect: nothing is sent
            intent_id = self.journal.record_intent(intent, now)
            self.journal.set_intent_status(intent_id, "rejected", f"paper guard: {self.refused}")
            log.error("intent refused by the paper guard", intent_id=intent_id)
            return None
        margin = None
        if intent.kind is not IntentKind.CLOSE:  # opens and rolls add risk: what-if first
            probe = Order("what-if", intent.legs, intent.quantity, intent.limit_price)
            margin = await self.broker.what_if(probe)
        problem = check_intent(intent, state, self.config.strategy, margin)
        if problem is not None:
            intent_id = self.journal.record_intent(intent, now)
            self.journal.set_intent_status(intent_id, "rejected", f"risk check: {problem}")
            log.warning("intent refused by risk check", intent_id=intent_id, reason=problem)
            return None
        return await self.executor.execute(intent)

    def _record_marks(self, state: PortfolioState, snapshot: MarketSnapshot) -> None:
        """Journal the structures' marks and greeks (at most every `marks_every` of venue time:
        marks are observations, not facts, so a replay may thin them; the close flushes)."""
        self._pending_marks = (state.structures, snapshot)
        last = self._marks_written
        if last is None or snapshot.time - last >= self.marks_every:
            self._flush_marks()

    def _flush_marks(self) -> None:
        """Write the last cycle's marks: each priced structure's net mid and position greeks."""
        if self._pending_marks is None:
            return
        structures, snapshot = self._pending_marks
        self._pending_marks = None
        quotes = snapshot.leg_quotes
        priced = [s for s in structures if not leg_problems(s.legs, quotes)]
        if not priced:
            return
        marks = {s.id: net_mid(s.legs, quotes) for s in priced}
        greeks = {s.id: position_greeks(s.legs, s.quantity, s.multiplier, quotes) for s in priced}
        self.journal.record_marks(marks, snapshot.time, greeks)
        self._marks_written = snapshot.time

    async def _daily_close(self) -> None:
        self._flush_marks()
        account = await self.broker.account()
        day = self.clock.now().astimezone(NY).date()
        self.journal.record_equity(day, account)
        log.info(
            "daily close",
            day=day.isoformat(),
            net_liquidation=round(account.net_liquidation, 2),
            cash=round(account.cash, 2),
            margin=round(account.maintenance_margin, 2),
        )
        if self.config.reports.enabled:  # never raises: a failed report is logged, trading goes on
            # in a child process (a file journal), under the job lock: bot/day_log_child.py
            reports_dir = Path(self.config.reports.dir)
            await write_day_log_off_the_loop(self.journal, day, reports_dir)
