"""The fake gateway's session: handshake, version negotiation, the connect sequence, knobs."""

from __future__ import annotations

import asyncio
import logging

import pytest
from fake_gateway import FakeGateway
from fake_gateway.client_logs import layout_errors
from fake_gateway.raw_client import RawClient

from broker.ib.ib_api import IB, LimitOrder
from broker.sim.exchange import SimExchange

from .conftest import CLIENT_ID, ask_of, condor_bag, connect, eventually


async def test_connect_sees_the_managed_account_and_a_ready_client(
    gateway: FakeGateway, ib: IB
) -> None:
    assert ib.isConnected()
    assert ib.managedAccounts() == ["DU1234567"]
    assert ib.client.serverVersion() == 176
    assert gateway.client_ids == [CLIENT_ID]
    # the whole connect sequence was asked for and answered (nothing timed out)
    asked = {r.msg_id for r in gateway.received}
    assert {71, 61, 5, 99, 6, 76, 7} <= asked


async def test_connect_sequence_has_no_time_out(
    gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="ib_async")
    ib = await connect(gateway)
    ib.disconnect()
    assert not [r for r in caplog.records if "timed out" in r.getMessage()]


async def test_handshake_is_two_fields_then_accounts_and_next_valid_id(
    gateway: FakeGateway,
) -> None:
    raw = await RawClient.open(gateway.port)
    version, stamp = await raw.read()
    assert version == "176"
    assert stamp == "20180305 10:00:00 EST"  # the venue's virtual clock
    raw.send("71", "2", "3", "")
    assert await raw.read() == ["15", "1", "DU1234567"]
    assert await raw.read() == ["9", "1", "1"]
    farm = [await raw.read() for _ in range(3)]
    assert [f[3] for f in farm] == ["2104", "2106", "2158"]
    await raw.close()


@pytest.mark.parametrize(
    ("announced", "offer", "expected"),
    [(176, "v157..178", "176"), (178, "v157..178", "178"), (178, "v157..176", "176")],
)
async def test_version_is_negotiated_per_client(
    exchange: SimExchange, announced: int, offer: str, expected: str
) -> None:
    gateway = FakeGateway(exchange, server_version=announced)
    await gateway.start()
    raw = await RawClient.open(gateway.port, f"{offer} +PACEAPI")
    assert (await raw.read())[0] == expected
    await raw.close()
    await gateway.stop()


async def test_next_valid_id_follows_the_orders_a_client_placed(
    gateway: FakeGateway, ib: IB
) -> None:
    bag = await condor_bag(ib)
    trade = ib.placeOrder(bag, LimitOrder("BUY", 1, await ask_of(ib, bag)))
    await eventually(trade.isDone)
    ib.disconnect()
    raw = await RawClient.open(gateway.port)
    await raw.read()
    raw.send("71", "2", str(CLIENT_ID), "")
    assert (await raw.read_until("9"))[2] == str(trade.order.orderId + 1)
    await raw.close()


async def test_duplicate_client_id_gets_326_and_the_socket_closes(
    gateway: FakeGateway, ib: IB
) -> None:
    raw = await RawClient.open(gateway.port)
    await raw.read()
    raw.send("71", "2", str(CLIENT_ID), "")
    refused = await raw.read()
    assert refused[:4] == ["4", "2", "-1", "326"]
    assert await raw.at_eof()
    await raw.close()
    assert gateway.client_ids == [CLIENT_ID]


async def test_unknown_message_is_ignored_and_the_connection_goes_on(
    gateway: FakeGateway, ib: IB
) -> None:
    gateway.send_raw(["4", "2", "-1", "2104", "just a notice", ""])
    ib.client.send(999, 1, "whatever")
    assert ib.client.isReady()
    now = await ib.reqCurrentTimeAsync()
    assert now.timestamp() == gateway.exchange.clock().timestamp()
    assert [r.msg_id for r in gateway.received][-2:] == [999, 49]


async def test_a_malformed_message_is_caught_by_the_layout_check(
    gateway: FakeGateway, ib: IB, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.send_raw(["1", "6", "1", "1", "2.5", "3"])  # tickPrice short of one field
    await asyncio.sleep(0.05)
    assert layout_errors(caplog.records)
    caplog.clear()  # this test wanted the error; the autouse check must not fail it


async def test_delayed_reply_arrives_after_the_delay(gateway: FakeGateway, ib: IB) -> None:
    gateway.delay_replies(0.3, msg_id=49)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await ib.reqCurrentTimeAsync()
    assert loop.time() - started >= 0.3
    gateway.delay_replies(0.0, msg_id=49)


async def test_dropped_reply_times_out_and_the_next_one_is_answered(
    gateway: FakeGateway, ib: IB
) -> None:
    gateway.drop_next_reply(49)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(ib.reqCurrentTimeAsync(), 0.3)
    assert await ib.reqCurrentTimeAsync()
    assert len(gateway.requests(49)) == 2


async def test_disconnect_on_a_request_closes_the_client(gateway: FakeGateway, ib: IB) -> None:
    gateway.disconnect_on_next(49)
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(ib.reqCurrentTimeAsync(), 2.0)
    assert not ib.isConnected()


async def test_unanswered_start_api_fails_the_connect(gateway: FakeGateway) -> None:
    gateway.drop_next_reply(71)
    with pytest.raises((asyncio.TimeoutError, ConnectionError)):
        await IB().connectAsync("127.0.0.1", gateway.port, clientId=3, timeout=0.5)
