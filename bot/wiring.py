"""Build the running system from the config: venue, journal, engine and jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from bot.clock import VirtualClock
from bot.config import AppConfig
from bot.engine import TradingEngine
from bot.jobs import Job, build_jobs
from broker.calendar import NY, TradingCalendar, default_calendar
from broker.sim.exchange import SimExchange
from broker.sim.history import DailyHistory
from broker.sim.market import MarketModel, SimMarket
from storage.journal import Journal

SIM_START_TIME = time(9, 0)


@dataclass
class SimSystem:
    """A trading engine on the simulated exchange, driven by a virtual clock."""

    clock: VirtualClock
    exchange: SimExchange
    engine: TradingEngine
    jobs: list[Job]
    calendar: TradingCalendar
    history: DailyHistory


def build_sim_system(
    config: AppConfig,
    journal: Journal,
    start: date,
    pace: float,
    end: date | None = None,
    allow_live: bool = False,
) -> SimSystem:
    """Wire a simulated exchange, a virtual clock starting at `start` 09:00 ET and an engine."""
    calendar = default_calendar()
    history = DailyHistory.from_arch(end=end)
    first = max(start, history.first_day)
    clock = VirtualClock(datetime.combine(first, SIM_START_TIME, tzinfo=NY), pace=pace)
    sim = config.sim
    market = SimMarket(
        history,
        calendar,
        MarketModel(sim.rate, sim.dividend_yield, sim.put_skew, sim.call_skew),
    )
    exchange = SimExchange(
        market, clock.now, sim.account_id, sim.starting_cash, sim.commission_per_contract
    )
    engine = TradingEngine(exchange, journal, clock, config, allow_live_cli=allow_live)
    return SimSystem(clock, exchange, engine, build_jobs(config.schedule), calendar, history)
