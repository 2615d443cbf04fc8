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
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import structlog

from bot.clock import Clock
from bot.config import AppConfig
from bot.daily_report import write_day_log_safely
from bot.executor import Executor, Outcome
from bot.jobs import JobName
from bot.overrides import screen_intents
from bot.reconcile import reconcile
from bot.snapshots import market_snapshot, portfolio_state
from broker.calendar import NY
from broker.errors import BrokerUnavailable
from broker.market import MarketSnapshot
from broker.orders import Order
from broker.paper_guard import ensure_paper
from broker.protocol import Broker
from broker.structures import Intent, IntentKind
from storage import commands
from storage.journal import Journal
from strategies.decide import decide_entry, decide_management
from strategies.decision import Decision, PortfolioState
from strategies.params import StrategyParams
from strategies.pricing_of_legs import leg_problems, net_mid, position_greeks
from strategies.risk import check_intent

log = structlog.get_logger("alvh.engine")

DecideFn = Callable[[MarketSnapshot, PortfolioState, StrategyParams, datetime], Decision]
T = TypeVar("T")


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
        self.before_job: Callable[[], Awaitable[object]] | None = None  # pending commands

    async def start(self) -> None:
        """Connect, refuse a live account, and reconcile: one path after a stop or a crash."""
        await self.broker.connect()
        self.broker_state = "connected"
        account = await self.broker.account()
        ensure_paper(
            account.account_id, self.port, self.config.account.allow_live, self.allow_live_cli
        )
        async with self._lock:
            await reconcile(self.broker, self.journal, self.executor, self.clock)

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
                if self.before_job is not None:
                    await self.before_job()
                await self._run_job(name)

    async def between_jobs(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` under the job lock: after the running job, before the next one."""
        async with self._lock:
            return await work()

    async def _run_job(self, name: JobName) -> None:
        """Dispatch a job; a venue outage skips it (the next trigger retries)."""
        try:
            if name is JobName.RECONCILE:
                await reconcile(self.broker, self.journal, self.executor, self.clock)
            elif name is JobName.CONDOR_ENTRY:
                await self._cycle(decide_entry, entry=True)
            elif name is JobName.MANAGE:
                await self._cycle(decide_management, entry=False)
            elif name is JobName.DAILY_CLOSE:
                await self._daily_close()
        except BrokerUnavailable as exc:
            self.broker_state = f"unavailable: {exc}"
            log.warning("job skipped: venue unavailable", error=str(exc))
        else:
            self.broker_state = "connected"

    async def _cycle(self, decide: DecideFn, entry: bool) -> None:
        now = self.clock.now().astimezone(NY)
        state = await portfolio_state(self.broker, self.journal)
        params = self.config.strategy
        snapshot = await market_snapshot(
            self.broker, state.structures, now, params.condor if entry else None
        )
        self._record_marks(state, snapshot)
        decision = decide(snapshot, state, params, now)
        for skipped in decision.skips:
            log.info("skip", action=skipped.action, reason=skipped.reason)
        runtime = commands.runtime_state(self.journal.engine)
        intents, screened = screen_intents(decision.intents, runtime, entry)
        for skipped in screened:
            log.info("skip", action=skipped.action, reason=skipped.reason)
        if entry and runtime.skip_next_entry:  # this entry window was the one to skip
            commands.set_runtime(self.journal.engine, {"skip_next_entry": False})
        for intent in intents:
            await self.execute_checked(intent, state, now)
            state = await portfolio_state(self.broker, self.journal)

    async def execute_checked(
        self, intent: Intent, state: PortfolioState, now: datetime
    ) -> Outcome | None:
        """Risk-check an intent and execute it; journal a refusal and return None."""
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
        quotes = snapshot.leg_quotes
        priced = [s for s in state.structures if not leg_problems(s.legs, quotes)]
        marks = {s.id: net_mid(s.legs, quotes) for s in priced}
        greeks = {s.id: position_greeks(s.legs, s.quantity, s.multiplier, quotes) for s in priced}
        if marks:
            self.journal.record_marks(marks, snapshot.time, greeks)

    async def _daily_close(self) -> None:
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
            reports_dir = Path(self.config.reports.dir)
            await asyncio.to_thread(write_day_log_safely, self.journal, day, reports_dir)
