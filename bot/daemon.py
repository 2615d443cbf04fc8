"""The long-running daemon: start, run the schedule, stop cleanly on SIGINT or SIGTERM.

One daemon per journal. Before anything else the daemon opens the journal (which refuses a
schema that is not at head: storage.schema) and takes the journal's daemon lock
(storage.daemon_lock), refusing to start while another live daemon holds it. A heartbeat task
writes the lock's heartbeat every 30 s of wall time (asyncio's loop clock, whatever the simulated
clock does); should the lock turn out to be someone else's, the daemon stops with exit code 2.
Every stop that runs the `finally` (signals, the end of the history, an error) releases the lock;
a killed daemon leaves it behind, and the next start recognises it as stale.

Override commands (bot/overrides.py) are applied once right after the start-up reconcile (so
commands given while the daemon was down take effect then), at the start of every job, and by
a task that polls the table every 5 s of wall time; all three hold the engine's job lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import structlog
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.config import AppConfig
from bot.driver import VirtualDriver, run_live
from bot.engine import TradingEngine
from bot.overrides import CommandApplier
from bot.wiring import build_ib_system, build_sim_system
from broker.errors import MarketDataEnded
from storage import daemon_lock, schema
from storage.daemon_lock import DEFAULT_STALENESS, HEARTBEAT_EVERY, LockHolder
from storage.journal import Journal

log = structlog.get_logger("alvh.daemon")

LOCK_LOST = "another daemon took over this journal's lock"
COMMANDS_EVERY = timedelta(seconds=5)


async def run_daemon(
    config: AppConfig,
    until: date | None = None,
    allow_live: bool = False,
    *,
    lock_staleness: timedelta = DEFAULT_STALENESS,
    heartbeat_every: timedelta = HEARTBEAT_EVERY,
    config_path: Path | None = None,
    commands_every: timedelta = COMMANDS_EVERY,
) -> int:
    """Run the daemon until a signal, `until`, or the end of the simulated history; exit code.

    `config_path` is the file `reload-config` re-reads (None: that command is rejected).

    Raise storage.schema.JournalUnavailable or storage.daemon_lock.DaemonAlreadyRunning when it
    cannot start on this journal.
    """
    schema.check_url(config.database.url)
    journal = Journal(config.database.url)
    try:
        lock = daemon_lock.acquire(journal.engine, staleness=lock_staleness)
    except BaseException:
        journal.dispose()
        raise
    if lock.replaced is not None:
        old = lock.replaced
        log.warning(
            "took over the lock of a stale daemon",
            old_pid=old.pid,
            old_host=old.host,
            old_since=old.started_at.isoformat(),
            old_heartbeat=old.heartbeat_at.isoformat(),
            why=lock.why_stale,
        )
    try:
        return await _run(
            config,
            journal,
            lock.holder,
            until,
            allow_live,
            heartbeat_every,
            (config_path, commands_every),
        )
    finally:
        try:
            daemon_lock.release(journal.engine, lock.holder)
        except DBAPIError as exc:
            log.warning("daemon lock not released (the next start finds it stale)", error=str(exc))
        journal.dispose()


async def _run(
    config: AppConfig,
    journal: Journal,
    holder: LockHolder,
    until: date | None,
    allow_live: bool,
    heartbeat_every: timedelta,
    commands_from: tuple[Path | None, timedelta],
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _on_signal, stop, sig)
    running: list[TradingEngine] = []  # the engine, once built: its broker state is beaten

    def broker_state() -> str | None:
        return running[0].broker_state if running else None

    heartbeat = asyncio.create_task(
        keep_lock(journal.engine, holder, heartbeat_every, stop, broker_state)
    )
    try:
        engine, drive = _system(config, journal, allow_live, until, holder)
        engine.on_refused = stop.set  # the paper guard refused the account after a reconnect
        running.append(engine)
        polling = asyncio.Event()
        poller: asyncio.Task[None] | None = None
        try:
            await engine.start()
            applier = CommandApplier(engine, commands_from[0])
            engine.before_job = applier.apply_pending
            await engine.between_jobs(applier.apply_pending)
            poller = asyncio.create_task(poll_commands(engine, applier, commands_from[1], polling))
            why = await drive(stop)
        except MarketDataEnded as exc:
            why = str(exc)
        finally:
            polling.set()
            if poller is not None:
                await poller  # lets a command being applied finish
            await engine.stop()
    finally:
        stop.set()
        lost = await heartbeat
    if engine.refused is not None:
        why = f"refusing to trade: {engine.refused}"
    log.info("daemon stopped", why=lost or why, cycles=engine.cycles)
    if engine.refused is not None:
        raise engine.refused  # `alvh run` prints it and exits with code 3, as at start
    return 2 if lost else 0


Drive = Callable[[asyncio.Event], Awaitable[str]]


def _system(
    config: AppConfig, journal: Journal, allow_live: bool, until: date | None, holder: LockHolder
) -> tuple[TradingEngine, Drive]:
    """Build the engine on the configured venue and what drives its jobs until `stop`."""
    database = make_url(config.database.url).render_as_string(hide_password=True)
    if config.account.broker == "ib":
        ib = build_ib_system(config, journal, allow_live)
        log.info(
            "daemon starting",
            broker="ib",
            host=config.ib.host,
            port=config.ib.port,
            client_id=config.ib.client_id,
            database=database,
            pid=holder.pid,
        )

        async def drive_live(stop: asyncio.Event) -> str:
            return await run_live(ib.jobs, ib.calendar, ib.engine.run_job, stop)

        return ib.engine, drive_live
    system = build_sim_system(
        config, journal, config.sim.start, pace=1.0 / config.sim.speed, allow_live=allow_live
    )
    last_day = min(until or system.history.last_day, system.history.last_day)
    log.info(
        "daemon starting",
        broker="sim",
        account=config.sim.account_id,
        start=str(system.clock.now()),
        last_day=last_day.isoformat(),
        database=database,
        speed=config.sim.speed,
        pid=holder.pid,
    )
    driver = VirtualDriver(
        system.clock, system.jobs, system.calendar, system.engine.run_job, config.sim.speed
    )

    async def drive_sim(stop: asyncio.Event) -> str:
        return await driver.run(stop, last_day)

    return system.engine, drive_sim


async def keep_lock(
    engine: SqlEngine,
    holder: LockHolder,
    every: timedelta,
    stop: asyncio.Event,
    broker_state: Callable[[], str | None] = lambda: None,
) -> str | None:
    """Beat every `every` of wall time until `stop`, with the broker connection state; if the
    lock was lost, set `stop` and say so."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every.total_seconds())
        if stop.is_set():
            return None
        try:
            mine = await asyncio.to_thread(
                daemon_lock.heartbeat, engine, holder, None, broker_state()
            )
        except DBAPIError as exc:  # a busy or briefly unreachable database: try next time
            log.warning("heartbeat not written", error=str(exc.orig))
            continue
        if not mine:
            log.error(LOCK_LOST, pid=holder.pid, now_held_by=_describe_holder(engine))
            stop.set()
            return LOCK_LOST
    return None


async def poll_commands(
    engine: TradingEngine, applier: CommandApplier, every: timedelta, stop: asyncio.Event
) -> None:
    """Apply pending commands every `every` of wall time, between jobs, until `stop`."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every.total_seconds())
        if stop.is_set():
            return
        await engine.between_jobs(applier.apply_pending)


def _describe_holder(engine: SqlEngine) -> str:
    holder = daemon_lock.current_holder(engine)
    return "nobody" if holder is None else f"pid {holder.pid} on {holder.host}"


def _on_signal(stop: asyncio.Event, sig: signal.Signals) -> None:
    log.info("signal received: finishing the current job, then stopping", signal=sig.name)
    stop.set()
