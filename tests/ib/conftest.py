"""Fixtures for driving the fake IB Gateway with the real IB client library, on one event loop.

The library is the one broker.ib.ib_api imports: ib_async in .venv, ib_insync 0.9.86 in
.venv-insync (`make test-ib-insync`). Every test here fails if the library logged that it could
not decode a message (a wrong field layout is otherwise only a silent drop and a time-out).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from fake_gateway import FakeGateway
from fake_gateway.client_logs import layout_errors

from broker.ib.ib_api import IB, LIBRARY, ComboLeg, Contract, Option
from broker.sim.exchange import SimExchange

CLIENT_ID = 7
TIMEOUT = 5.0


@pytest.fixture(autouse=True)
def no_layout_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test when the client could not decode a message of the gateway.

    Read after the test, so from the setup and call phases' records: `caplog.records` in a
    fixture's teardown holds only the teardown's. A test that provokes such an error on purpose
    calls `caplog.clear()` after checking it.
    """
    caplog.set_level(logging.INFO, logger=LIBRARY)
    yield
    records = [r for phase in ("setup", "call") for r in caplog.get_records(phase)]
    errors = layout_errors([*records, *caplog.records])
    assert not errors, f"{LIBRARY} could not decode: {errors}"


@pytest.fixture
async def gateway(
    exchange: SimExchange, request: pytest.FixtureRequest
) -> AsyncIterator[FakeGateway]:
    """A started gateway (server version 176, or the indirect parameter)."""
    gw = FakeGateway(exchange, server_version=getattr(request, "param", 176))
    await gw.start()
    yield gw
    await gw.stop()


async def connect(gateway: FakeGateway, client_id: int = CLIENT_ID) -> IB:
    """Return a client of the IB library connected to the gateway."""
    ib = IB()
    await ib.connectAsync("127.0.0.1", gateway.port, clientId=client_id, timeout=TIMEOUT)
    return ib


@pytest.fixture
async def ib(gateway: FakeGateway) -> AsyncIterator[IB]:
    client = await connect(gateway)
    yield client
    client.disconnect()


async def eventually(check: Callable[[], bool], timeout: float = 2.0) -> None:
    """Wait until `check()` holds; fail after `timeout` wall seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


EXPIRY = "20180420"
CONDOR = ((2550.0, "P", "SELL"), (2500.0, "P", "BUY"), (2850.0, "C", "SELL"), (2900.0, "C", "BUY"))


def spxw(strike: float, right: str, expiry: str = EXPIRY) -> Option:
    return Option("SPX", expiry, strike, right, "SMART", tradingClass="SPXW", currency="USD")


async def condor_bag(ib: IB) -> Contract:
    """Return the BAG of a 45-day SPXW iron condor (short 2550P/2850C, long 2500P/2900C)."""
    options = [spxw(strike, right) for strike, right, _ in CONDOR]
    await ib.qualifyContractsAsync(*options)
    legs = [
        ComboLeg(conId=o.conId, ratio=1, action=action, exchange="SMART")
        for o, (_, _, action) in zip(options, CONDOR, strict=True)
    ]
    return Contract(secType="BAG", symbol="SPX", exchange="SMART", currency="USD", comboLegs=legs)


async def ask_of(ib: IB, contract: Contract) -> float:
    """Return the contract's ask now (for a BAG: the natural price of buying it)."""
    (ticker,) = await ib.reqTickersAsync(contract)
    return float(ticker.ask)
