"""The daemon's trading engine on the IB adapter, against the fake gateway, on a virtual clock.

What the IB end-to-end tests (test_e2e_*.py) drive. Modeling choices:
- One VirtualClock is the time of the venue (the SimExchange behind the fake gateway, which
  matches resting orders and reports fills whenever that clock moves), of the adapter (`now`,
  today's caches) and of the engine. The executor's waits between limit steps
  (`clock.sleep(step_seconds)`) move it, so a limit walked from mid toward the natural price
  meets the venue's book as it would live; the adapter's own time-outs stay on the wall clock.
- The wiring is bot.wiring.build_ib_system's (IbBroker, TradingEngine with the paper guard on
  the broker's port, a reconnect hook that reconciles again under the job lock) with two
  injections it does not offer: the virtual clock, and a client whose request pacing is off.
  The library paces requests to 45 a second for real TWS; the fake gateway has no such limit,
  and with it one condor entry (about 600 option snapshots) would take 14 s instead of 0.5 s.
- The config is a TOML file in the test's folder, loaded with bot.config.load_config: the same
  file `alvh status --config` and `alvh run --config` read. The journal is SQLite beside it.
- The day is Monday 2018-01-08, an entry day outside the macro blackout whose 45-DTE condor fits
  the 2% max-loss limit of the 1M paper account, and whose 10:30 rebalance buys the VIX layer's
  futures ladder.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from fake_gateway import FakeGateway

from bot.clock import VirtualClock
from bot.config import AppConfig, load_config
from bot.engine import TradingEngine
from bot.jobs import JobName
from bot.wiring import build_ib_system
from broker.calendar import NY, default_calendar
from broker.contracts import OptionContract
from broker.ib import ib_api
from broker.ib.adapter import IbBroker
from broker.market import Greeks, OptionQuote
from broker.sim.exchange import SimExchange
from broker.sim.history import DailyHistory
from broker.sim.market import MarketModel, SimMarket
from storage.journal import Journal, JournaledIntent

MONDAY = date(2018, 1, 8)
OPENING = datetime.combine(MONDAY, time(9, 30), tzinfo=NY)
DAY = timedelta(days=1)
PAPER_ACCOUNT = "DU1234567"
VENUE_ACCOUNT = "DUSIM0001"
STARTING_CASH = 1_000_000.0
LOOPBACK = "127.0.0.1"
# Quick reconnects: the nightly restart's backoff starts at 2 s; tests wait tenths of a second.
FAST_IB = {"connect_timeout": 5.0, "reconnect_initial": 0.1, "reconnect_max": 0.4}
NO_GREEKS = Greeks(math.nan, math.nan, math.nan, math.nan, math.nan)

TomlValue = str | int | float | bool
Sections = Mapping[str, Mapping[str, TomlValue]]


class GreeklessExchange(SimExchange):
    """A venue whose option quotes carry no greeks: the gateway sends IB's "not computed"."""

    async def option_quotes(self, contracts: Sequence[OptionContract]) -> list[OptionQuote]:
        quotes = await super().option_quotes(contracts)
        return [replace(q, greeks=NO_GREEKS) for q in quotes]

    async def true_quotes(self, contracts: Sequence[OptionContract]) -> list[OptionQuote]:
        """Return the quotes with the venue's own greeks (what the gateway keeps back)."""
        return await super().option_quotes(contracts)


def new_venue(
    history: DailyHistory, clock: VirtualClock, venue: type[SimExchange] = SimExchange
) -> SimExchange:
    """Return a simulated exchange on the clock with a new 1M paper account."""
    market = SimMarket(history, default_calendar(), MarketModel())
    return venue(market, clock.now, VENUE_ACCOUNT, STARTING_CASH)


def toml_text(sections: Sections) -> str:
    """Return a TOML document of flat tables (dotted names like "strategy.condor" allowed)."""
    lines = ["schema_version = 1"]
    for table, keys in sections.items():
        lines.append(f"[{table}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: TomlValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string for the paths and names used here
    return repr(value)


def write_config(
    folder: Path, host: str, port: int, extra: Sections | None = None
) -> tuple[Path, AppConfig]:
    """Write the IB config of a test run into `folder`; return its path and its loaded value.

    `extra` adds keys to tables (or new tables): {"account": {"allow_live": True}}.
    """
    sections: dict[str, dict[str, TomlValue]] = {
        "account": {"broker": "ib"},
        "database": {"url": f"sqlite:///{folder / 'alvh.sqlite'}"},
        "logging": {"json_path": str(folder / "alvh.jsonl")},
        "reports": {"enabled": False, "dir": str(folder / "reports")},
        "ib": {"host": host, "port": port, **FAST_IB},
    }
    for table, keys in (extra or {}).items():
        sections.setdefault(table, {}).update(keys)
    path = folder / "alvh-ib.toml"
    path.write_text(toml_text(sections), encoding="utf-8")
    return path, load_config(path)


def unpaced_client() -> ib_api.IB:
    """Return a client of the IB library with its request pacing off (see the docstring)."""
    ib = ib_api.IB()
    ib.client.MaxRequests = 0
    return ib


@dataclass
class IbE2eSystem:
    """A running engine on IbBroker, the fake gateway and its venue, sharing one clock."""

    folder: Path
    config_path: Path
    config: AppConfig
    clock: VirtualClock
    exchange: SimExchange
    gateway: FakeGateway
    broker: IbBroker
    engine: TradingEngine
    journal: Journal

    async def at(self, hour: int, minute: int, job: JobName, day: date = MONDAY) -> None:
        """Move the clock to `day` hour:minute ET and run `job` (as the schedule would)."""
        self.clock.advance_to(datetime.combine(day, time(hour, minute), tzinfo=NY))
        await self.engine.run_job(job)

    async def open_the_books(self) -> None:
        """Run the morning: signals, the Monday condor entry and the VIX layer's rebalance."""
        await self.at(9, 40, JobName.SIGNALS)
        await self.at(10, 0, JobName.CONDOR_ENTRY)
        await self.at(10, 30, JobName.HEDGE)

    def restart_engine(self) -> None:
        """Replace the broker and engine by new ones on the same config, journal and clock."""
        self.broker, self.engine = build_engine(self.config, self.journal, self.clock)

    async def venue_positions(self) -> dict[str, int]:
        """Return the venue's holdings by contract key."""
        return {p.contract.key: p.quantity for p in await self.exchange.positions() if p.quantity}

    def journal_positions(self) -> dict[str, int]:
        """Return what the journal's open structures hold, by contract key."""
        held: Counter[str] = Counter()
        for structure in self.journal.open_structures():
            for leg in structure.legs:
                held[leg.contract.key] += leg.signed_ratio * structure.quantity
        return {key: qty for key, qty in held.items() if qty}

    def intents(self) -> list[JournaledIntent]:
        """Return every intent journaled since the run began, oldest first."""
        return self.journal.intents_between(OPENING - DAY, self.clock.now() + DAY)

    def order_ids_sent(self, ref: str) -> set[int]:
        """Return the IB order ids of the new orders and modifications that carried `ref`."""
        return {o.order_id for o in self.gateway.orders_received(ref)}

    def venue_orders(self) -> list[str]:
        """Return the venue's order refs (one per order that reached it)."""
        return list(self.exchange.state.orders)


def build_engine(
    config: AppConfig, journal: Journal, clock: VirtualClock, allow_live_cli: bool = False
) -> tuple[IbBroker, TradingEngine]:
    """Wire IbBroker and a TradingEngine with the daemon's own bot.wiring.build_ib_system, on
    `clock` and an unpaced client."""
    system = build_ib_system(config, journal, allow_live_cli, clock=clock, ib=unpaced_client())
    return system.broker, system.engine


@asynccontextmanager
async def ib_system(
    folder: Path,
    history: DailyHistory,
    *,
    account_id: str = PAPER_ACCOUNT,
    venue: type[SimExchange] = SimExchange,
    extra: Sections | None = None,
    live_data: bool = True,
    start: bool = True,
    allow_live_cli: bool = False,
) -> AsyncIterator[IbE2eSystem]:
    """Start a venue, the fake gateway on it and an engine on IbBroker (connected and
    reconciled when `start`); stop all of them on the way out."""
    clock = VirtualClock(OPENING)
    exchange = new_venue(history, clock, venue)
    await exchange.connect()
    gateway = FakeGateway(exchange, account_id=account_id)
    gateway.live_data_subscribed = live_data
    await gateway.start()
    config_path, config = write_config(folder, LOOPBACK, gateway.port, extra)
    journal = Journal(config.database.url)
    broker, engine = build_engine(config, journal, clock, allow_live_cli)
    system = IbE2eSystem(
        folder, config_path, config, clock, exchange, gateway, broker, engine, journal
    )
    try:
        if start:
            await engine.start()
        yield system
    finally:
        await system.engine.stop()
        await gateway.stop()
        journal.dispose()
