"""The long-running daemon: start, run the schedule, stop cleanly on SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from datetime import date

import structlog

from bot.config import AppConfig
from bot.driver import VirtualDriver
from bot.wiring import build_sim_system
from broker.errors import MarketDataEnded
from storage.journal import Journal

log = structlog.get_logger("alvh.daemon")


async def run_daemon(config: AppConfig, until: date | None = None, allow_live: bool = False) -> int:
    """Run the daemon until a signal, `until`, or the end of the simulated history; exit code."""
    if config.account.broker != "sim":
        log.error("only the simulated exchange is available in this version", broker="ib")
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _on_signal, stop, sig)
    journal = Journal(config.database.url)
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
        database=config.database.url,
        speed=config.sim.speed,
    )
    try:
        await system.engine.start()
        driver = VirtualDriver(
            system.clock, system.jobs, system.calendar, system.engine.run_job, config.sim.speed
        )
        why = await driver.run(stop, last_day)
    except MarketDataEnded as exc:
        why = str(exc)
    finally:
        await system.engine.stop()
        journal.dispose()
    log.info("daemon stopped", why=why, cycles=system.engine.cycles)
    return 0


def _on_signal(stop: asyncio.Event, sig: signal.Signals) -> None:
    log.info("signal received: finishing the current job, then stopping", signal=sig.name)
    stop.set()
