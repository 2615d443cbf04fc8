"""End to end on IB: the real `alvh run` (a child process, the real wiring) refuses a live
account or a live port before any order, with a message that says what and how; the double
opt-in (config and command line) is what lets a live account through. A gateway that comes back
from a restart logged in to a live account is refused too, before the reconcile and any order.

A live port is served by the fake gateway on a loopback address of its own (127.a.b.c, from
this process id), so the test never takes 127.0.0.1:4001 or :7496 from anything on the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
from fake_gateway import FakeGateway

from bot.clock import VirtualClock
from bot.config import AppConfig
from bot.jobs import JobName
from broker.sim.history import DailyHistory
from storage.journal import Journal

from .conftest import eventually
from .e2e_system import LOOPBACK, OPENING, Sections, ib_system, new_venue, write_config

ALVH = str(Path(sys.executable).with_name("alvh"))
REFUSED_EXIT = 3  # bot.cli: LiveTradingRefused
DAEMON_TIMEOUT = 60.0
PLACE_ORDER = 3  # orders and what-ifs alike
START_API = 71
LIVE_ACCOUNT = "U7654321"
REFUSED_AFTER_RESTART = f"refusing to trade: account '{LIVE_ACCOUNT}' is not a paper account"
LIVE_PORTS = (4001, 7496)
OPT_IN = "Live trading needs `allow_live = true` under [account] in the config AND `--allow-live`"


def own_loopback() -> str:
    """Return a loopback address that belongs to this test process (Linux routes 127/8 to lo)."""
    pid = os.getpid()
    return f"127.{(pid >> 16) & 255}.{(pid >> 8) & 255}.{pid & 255}"


@asynccontextmanager
async def gateway_at(
    history: DailyHistory, account_id: str, host: str, port: int
) -> AsyncIterator[FakeGateway]:
    gateway = FakeGateway(new_venue(history, VirtualClock(OPENING)), account_id, host=host)
    await gateway.exchange.connect()
    gateway.port = port
    try:
        await gateway.start()
    except OSError as exc:  # a host whose loopback is 127.0.0.1 alone (macOS)
        pytest.skip(f"cannot listen on {host}:{port}: {exc}")
    try:
        yield gateway
    finally:
        await gateway.stop()


async def alvh_run(config: Path) -> tuple[int, str]:
    """Run `alvh run --config CONFIG` to its end; return its exit code and stderr."""
    daemon = await asyncio.create_subprocess_exec(
        ALVH, "run", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "400"},  # one line per message: no wrapping to match
    )  # fmt: skip
    try:
        _, stderr = await asyncio.wait_for(daemon.communicate(), DAEMON_TIMEOUT)
    except TimeoutError:
        daemon.kill()
        await daemon.wait()
        raise AssertionError(f"alvh run was not refused within {DAEMON_TIMEOUT:g} s") from None
    assert daemon.returncode is not None
    return daemon.returncode, stderr.decode()


def says_how_to_opt_in(stderr: str) -> None:
    assert "Live trading needs `allow_live = true` under" in stderr
    assert OPT_IN in " ".join(stderr.split())


def nothing_was_traded(gateway: FakeGateway, config_url: str) -> None:
    assert gateway.requests(PLACE_ORDER) == []  # no order, not even a what-if
    journal = Journal(config_url)
    try:
        assert journal.intents_between(datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC)) == []
    finally:
        journal.dispose()


def logged(config: AppConfig, event: str) -> bool:
    """Return whether the daemon's JSON log has an `event` line yet."""
    path = Path(config.logging.json_path or "")
    if not path.is_file():
        return False
    return any(json.loads(line)["event"] == event for line in path.read_text().splitlines())


async def refused_run(
    folder: Path, history: DailyHistory, account: str, host: str, port: int, extra: Sections
) -> str:
    """Run `alvh run` against a gateway of `account` at host:port; check that it was refused
    before any order; return its stderr."""
    folder.mkdir()
    async with gateway_at(history, account, host, port) as gateway:
        path, config = write_config(folder, host, gateway.port, extra)
        code, stderr = await alvh_run(path)
        assert code == REFUSED_EXIT, stderr
        assert len(gateway.requests(START_API)) == 1  # it connected: IB names the account
        nothing_was_traded(gateway, config.database.url)
    return stderr


async def test_alvh_run_refuses_an_account_that_is_not_a_paper_account(
    tmp_path: Path, history: DailyHistory
) -> None:
    config_only: Sections = {"account": {"allow_live": True}}  # the config alone is not enough
    runs = [
        refused_run(tmp_path / name, history, "U1234567", LOOPBACK, 0, extra)
        for name, extra in (("no-opt-in", {}), ("config-opt-in-only", config_only))
    ]
    for stderr in await asyncio.gather(*runs):  # two daemons at once: half the start-up time
        assert "refusing to trade: account 'U1234567' is not a paper account" in stderr
        assert "(paper ids start with DU)" in stderr
        says_how_to_opt_in(stderr)


async def test_alvh_run_refuses_the_live_ports_even_with_a_paper_account(
    tmp_path: Path, history: DailyHistory
) -> None:
    host = own_loopback()
    runs = [
        refused_run(tmp_path / str(port), history, "DU1234567", host, port, {})
        for port in LIVE_PORTS
    ]
    for port, stderr in zip(LIVE_PORTS, await asyncio.gather(*runs), strict=True):
        assert f"refusing to trade: port {port} is a live trading port" in stderr
        assert "(paper: 4002 for IB Gateway, 7497 for TWS)" in stderr
        says_how_to_opt_in(stderr)


async def test_the_double_opt_in_lets_a_live_account_trade(
    tmp_path: Path, history: DailyHistory
) -> None:
    opt_in: Sections = {"account": {"allow_live": True}}
    async with ib_system(
        tmp_path, history, account_id="U1234567", extra=opt_in, allow_live_cli=True
    ) as system:
        assert system.broker.account_id == "U1234567"  # started: connected, guard passed
        await system.open_the_books()
        assert system.journal.open_structures()
        assert system.gateway.requests(PLACE_ORDER)


async def test_a_gateway_back_from_a_restart_on_a_live_account_gets_no_order(
    tmp_path: Path, history: DailyHistory
) -> None:
    async with ib_system(tmp_path, history) as system:
        told: list[bool] = []
        system.engine.on_refused = lambda: told.append(True)
        await system.at(9, 40, JobName.SIGNALS)
        with structlog.testing.capture_logs() as logs:
            system.gateway.account_id = LIVE_ACCOUNT  # IBC logged in to the live user overnight
            await system.gateway.restart()
            await eventually(lambda: bool(told), 8.0)
            await system.at(10, 0, JobName.CONDOR_ENTRY)  # would open the Monday condor
        assert system.broker.account_id == LIVE_ACCOUNT  # the new session names the account
        assert REFUSED_AFTER_RESTART in str(system.engine.refused)
        says_how_to_opt_in(str(system.engine.refused))
        nothing_was_traded(system.gateway, system.config.database.url)
        events = [e["event"] for e in logs]
        assert "refusing to trade" in events
        assert "job not run: trading refused" in events
        assert "reconciled" not in events


async def test_alvh_run_stops_with_the_refusal_when_the_gateway_comes_back_on_a_live_account(
    tmp_path: Path, history: DailyHistory
) -> None:
    async with gateway_at(history, "DU1234567", LOOPBACK, 0) as gateway:
        path, config = write_config(tmp_path, LOOPBACK, gateway.port)
        daemon = asyncio.create_task(alvh_run(path))
        await eventually(lambda: logged(config, "reconciled"), DAEMON_TIMEOUT)  # it is running
        gateway.account_id = LIVE_ACCOUNT
        await gateway.restart()
        code, stderr = await daemon
        assert code == REFUSED_EXIT, stderr
        assert len(gateway.requests(START_API)) == 2  # it came back, then refused the account
        assert REFUSED_AFTER_RESTART in stderr
        says_how_to_opt_in(stderr)
        nothing_was_traded(gateway, config.database.url)
