"""Build the running system from the config: venue, journal, engine and jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from bot.clock import Clock, RealClock, VirtualClock
from bot.config import AppConfig, SimConfig
from bot.engine import TradingEngine
from bot.jobs import Job, build_jobs
from broker.calendar import NY, TradingCalendar, default_calendar
from broker.sim.exchange import SimExchange
from broker.sim.fees import FeeSchedule
from broker.sim.history import DailyHistory
from broker.sim.market import MarketModel, SimMarket
from broker.sim.venue_store import VenueStore
from storage.journal import Journal

if TYPE_CHECKING:
    from broker.ib import ib_api
    from broker.ib.adapter import IbBroker

SIM_START_TIME = time(9, 0)

log = structlog.get_logger("alvh.wiring")


@dataclass
class SimSystem:
    """A trading engine on the simulated exchange, driven by a virtual clock."""

    clock: VirtualClock
    exchange: SimExchange
    engine: TradingEngine
    jobs: list[Job]
    calendar: TradingCalendar
    history: DailyHistory


def load_history(sim: SimConfig, end: date | None = None) -> DailyHistory:
    """Return the simulator's history: built in, or from the user's CSV files."""
    data = sim.data
    files = (data.spx_csv, data.vix_csv, data.breadth_csv, data.vix_futures_csv)
    if not any(files):
        return DailyHistory.from_arch(end=end)
    spx, vix, breadth, futures = (Path(f) if f else None for f in files)
    return DailyHistory.from_sources(
        spx_csv=spx, vix_csv=vix, breadth_csv=breadth, futures_csv=futures, end=end
    )


@dataclass
class IbSystem:
    """A trading engine on an Interactive Brokers paper account, on the wall clock."""

    broker: IbBroker
    engine: TradingEngine
    jobs: list[Job]
    calendar: TradingCalendar


def build_ib_system(
    config: AppConfig,
    journal: Journal,
    allow_live: bool = False,
    *,
    clock: Clock | None = None,
    ib: ib_api.IB | None = None,
) -> IbSystem:
    """Wire the IB adapter and an engine on the real clock; a reconnect re-reconciles.

    The engine checks the paper guard on the account and the port before any order. Tests pass
    their own `clock` and IB client (the end-to-end suite runs this very wiring).
    """
    from broker.ib.adapter import IbBroker  # imports ib_async: only when trading IB

    clock = clock or RealClock()
    broker = IbBroker(config.ib, ib=ib, clock=clock.now)
    engine = TradingEngine(
        broker, journal, clock, config, allow_live_cli=allow_live, port=broker.port
    )

    broker.on_reconnected.append(engine.after_reconnect)
    return IbSystem(broker, engine, build_jobs(config.schedule), default_calendar())


def build_sim_system(
    config: AppConfig,
    journal: Journal,
    start: date,
    pace: float,
    end: date | None = None,
    allow_live: bool = False,
    persist_venue: bool = True,
) -> SimSystem:
    """Wire a simulated exchange, a virtual clock and an engine.

    With `persist_venue` the venue keeps its account in `sim.venue_path`; when that file
    already holds the account, the clock resumes where the venue stopped and `start` is
    ignored. Otherwise the clock starts at `start` 09:00 ET with a new paper account.
    """
    sim = config.sim
    calendar = default_calendar()
    history = load_history(sim, end)
    first = max(start, history.first_day)
    clock = VirtualClock(datetime.combine(first, SIM_START_TIME, tzinfo=NY), pace=pace)
    market = SimMarket(history, calendar, MarketModel(sim.rate, sim.dividend_yield))
    store = VenueStore(Path(sim.venue_path)) if persist_venue else None
    exchange = SimExchange(
        market,
        clock.now,
        sim.account_id,
        sim.starting_cash,
        fees=FeeSchedule(**sim.fees.model_dump()),
        future_initial_margin=sim.future_initial_margin,
        store=store,
    )
    if exchange.saved_clock is not None:  # the venue's account resumes at its own time
        clock = VirtualClock(exchange.saved_clock, pace=pace)
        exchange.clock = clock.now
        log.info(
            "simulated venue resumed: sim.start is ignored (delete the file to start over)",
            venue=str(sim.venue_path),
            account=sim.account_id,
            at=exchange.saved_clock.astimezone(NY).isoformat(timespec="minutes"),
        )
    elif store is not None:
        log.info("simulated venue: new paper account", venue=str(sim.venue_path), start=str(first))
    engine = TradingEngine(exchange, journal, clock, config, allow_live_cli=allow_live)
    return SimSystem(clock, exchange, engine, build_jobs(config.schedule), calendar, history)
