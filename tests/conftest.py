"""Shared fixtures: a simulated exchange on real 2018 history with a virtual clock."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import datetime

import pytest
from hypothesis import settings
from postgres_server import PostgresServer, postgres_server

from bot.clock import VirtualClock
from broker.calendar import NY, default_calendar
from broker.sim.exchange import SimExchange
from broker.sim.history import DailyHistory
from broker.sim.market import MarketModel, SimMarket

# CI runs the property tests on a fixed seed with no deadline, so a red CI is reproducible and never
# a timing accident; local runs keep exploring new examples (HYPOTHESIS_PROFILE=ci to match CI).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def history() -> DailyHistory:
    return DailyHistory.from_arch()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(datetime(2018, 3, 5, 10, 0, tzinfo=NY))


@pytest.fixture
def market(history: DailyHistory) -> SimMarket:
    return SimMarket(history, default_calendar(), MarketModel())


@pytest.fixture
async def exchange(market: SimMarket, clock: VirtualClock) -> SimExchange:
    venue = SimExchange(market, clock.now, "DUTEST001", 1_000_000.0)
    await venue.connect()
    return venue


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the session (skips, saying why, without one)."""
    with postgres_server() as server:
        if isinstance(server, str):
            pytest.skip(server)
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_url(request: pytest.FixtureRequest) -> str:
    """The URL of a new, empty journal: private in-memory SQLite, then a PostgreSQL database."""
    if request.param == "sqlite":
        return "sqlite://"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    """Undo the handlers and level the CLI's logging set-up (`alvh run`, `alvh replay`) puts on
    the root logger during a test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
