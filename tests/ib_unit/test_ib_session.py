"""IbSession without a gateway: IB's error messages (1100/1101/1102, "not subscribed"), the
request wrappers, the clock; and IbBroker's facade wiring its hooks and state to the session.

IB's messages are emitted on the client's own `errorEvent`, as ib_async does on receipt.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
import structlog

from broker.errors import BrokerUnavailable
from broker.ib import ib_api
from broker.ib.adapter import IbBroker
from broker.ib.session import IbSession
from broker.ib.settings import IbSettings

NOT_SUBSCRIBED = "market data not subscribed: using delayed data (15-20 minutes old) from now on"
SERVERS_LOST = "IB Gateway lost its connection to IB (1100): calls wait for it"


def emit(ib: ib_api.IB, code: int, text: str = "", req_id: int = -1) -> None:
    ib.errorEvent.emit(req_id, code, text, None)


async def settle() -> None:
    for _ in range(5):  # let spawned tasks (the reconnect hooks) run
        await asyncio.sleep(0)


@pytest.mark.parametrize("code", [354, 10089, 10090, 10167])
def test_not_subscribed_switches_to_delayed_data_with_one_warning(code: int) -> None:
    session = IbSession(IbSettings())
    assert session.market_data_type == "live" and session.data_type == 1
    with structlog.testing.capture_logs() as logs:
        emit(session.ib, code, "not subscribed", req_id=7)
        emit(session.ib, 354, "not subscribed again", req_id=8)
    assert session.market_data_type == "delayed" and session.data_type == 3
    warnings = [(e["log_level"], e["code"]) for e in logs if e["event"] == NOT_SUBSCRIBED]
    assert warnings == [("warning", code)]


def test_delayed_data_configured_never_warns() -> None:
    session = IbSession(IbSettings(market_data_type="delayed"))
    with structlog.testing.capture_logs() as logs:
        emit(session.ib, 10167, "not subscribed")
    assert session.market_data_type == "delayed"
    assert not [e for e in logs if e["event"] == NOT_SUBSCRIBED]


def test_other_errors_change_no_state() -> None:
    session = IbSession(IbSettings())
    emit(session.ib, 200, "No security definition has been found", req_id=3)
    emit(session.ib, 2104, "Market data farm connection is OK")
    assert session.market_data_type == "live" and session.state == "not connected"


async def test_1100_refuses_calls_and_1102_after_it_runs_each_hook_once() -> None:
    broker = IbBroker(IbSettings())
    ran: list[str] = []

    async def reconcile() -> None:
        ran.append("reconcile")

    broker.on_reconnected.append(reconcile)
    with structlog.testing.capture_logs() as logs:
        emit(broker.ib, 1100, "Connectivity between IB and TWS has been lost.")
        emit(broker.ib, 1100, "Connectivity between IB and TWS has been lost.")
    assert broker.state == "connected; IB Gateway has lost IB's servers (1100)"
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == [SERVERS_LOST]

    emit(broker.ib, 1102, "Connectivity restored - data maintained.")
    await settle()
    assert ran == ["reconcile"] and broker.state == "not connected"

    emit(broker.ib, 1101, "Connectivity restored - data lost.")  # no 1100 before it: no hook
    await settle()
    assert ran == ["reconcile"]


async def test_a_failing_hook_is_logged_and_the_next_one_still_runs() -> None:
    session = IbSession(IbSettings())
    ran: list[str] = []

    async def broken() -> None:
        raise RuntimeError("journal locked")

    async def reconcile() -> None:
        ran.append("reconcile")

    session.on_reconnected.extend([broken, reconcile])
    with structlog.testing.capture_logs() as logs:
        emit(session.ib, 1100)
        emit(session.ib, 1101)
        await settle()
    assert ran == ["reconcile"]
    failed = [e for e in logs if e["event"] == "on_reconnected hook failed"]
    assert [e["error"] for e in failed] == ["journal locked"]


def test_errors_since_a_mark_are_the_newer_ones_at_most_50() -> None:
    session = IbSession(IbSettings())
    emit(session.ib, 200, "before the mark")
    mark = session.error_mark()
    assert session.errors_since(mark) == []
    emit(session.ib, 201, "Order rejected - reason: margin")
    emit(session.ib, 10167, "delayed")
    assert session.errors_since(mark) == [
        "IB 201: Order rejected - reason: margin",
        "IB 10167: delayed",
    ]

    later = session.error_mark()
    for n in range(60):
        emit(session.ib, 300, f"error {n}")
    kept = session.errors_since(later)
    assert len(kept) == 50 and kept[0] == "IB 300: error 10" and kept[-1] == "IB 300: error 59"
    assert session.errors_since(session.error_mark()) == []


def test_before_connect_requests_and_the_account_are_refused() -> None:
    session = IbSession(IbSettings())
    with pytest.raises(BrokerUnavailable, match="not connected to IB"):
        session.ready()
    with pytest.raises(BrokerUnavailable, match="connect first"):
        session.require_account()
    assert session.account_id is None


async def test_call_turns_a_timeout_and_a_lost_connection_into_broker_unavailable() -> None:
    session = IbSession(IbSettings(request_timeout=0.05))

    async def answer() -> int:
        return 42

    async def lost() -> int:
        raise ConnectionResetError("peer reset")

    assert await session.call(answer(), "an answer") == 42
    with pytest.raises(BrokerUnavailable, match=r"did not answer positions within 0\.05 s"):
        await session.call(asyncio.sleep(1.0), "positions")
    with pytest.raises(BrokerUnavailable, match=r"did not answer bars within 0\.01 s"):
        await session.call(asyncio.sleep(1.0), "bars", timeout=0.01)
    with pytest.raises(BrokerUnavailable, match="connection lost during executions: peer reset"):
        await session.call(lost(), "executions")


def test_send_turns_a_lost_connection_into_broker_unavailable() -> None:
    session = IbSession(IbSettings())

    def broken_pipe() -> int:
        raise BrokenPipeError("broken pipe")

    assert session.send(lambda: 7, "alvh-1") == 7
    with pytest.raises(BrokerUnavailable, match="lost sending alvh-1: broken pipe"):
        session.send(broken_pipe, "alvh-1")


async def test_wait_until_is_true_when_done_and_false_at_once_when_disconnected() -> None:
    session = IbSession(IbSettings())
    assert await session.wait_until(lambda: True, 10.0) is True
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await session.wait_until(lambda: False, 10.0) is False  # no socket: no waiting
    assert loop.time() - start < 1.0


def test_today_is_the_date_in_new_york() -> None:
    late_evening = datetime(2024, 1, 3, 3, 30, tzinfo=UTC)  # 22:30 on Jan 2 in New York
    session = IbSession(IbSettings(), clock=lambda: late_evening)
    assert session.now() == late_evening and session.today() == date(2024, 1, 2)


def test_the_broker_shows_the_session_it_was_given() -> None:
    client = ib_api.IB()
    broker = IbBroker(IbSettings(port=4102), ib=client)
    assert broker.ib is client and broker.port == 4102
    assert broker.account_id is None and broker.state == "not connected"
    emit(client, 10090, "partly not subscribed")
    assert broker.market_data_type == "delayed"
