"""The nightly restart and connectivity notices, as the client sees them."""

from __future__ import annotations

import asyncio

import pytest
from fake_gateway import FakeGateway

from broker.ib.ib_api import IB, LimitOrder
from broker.sim.exchange import SimExchange

from .conftest import ask_of, condor_bag, connect, eventually


async def test_restart_drops_the_client_refuses_then_accepts_on_the_same_port(
    gateway: FakeGateway, ib: IB, exchange: SimExchange
) -> None:
    bag = await condor_bag(ib)
    trade = ib.placeOrder(bag, LimitOrder("BUY", 1, await ask_of(ib, bag), orderRef="alvh-5"))
    await eventually(trade.isDone)
    port = gateway.port
    dropped: list[bool] = []
    ib.disconnectedEvent += lambda: dropped.append(True)
    restart = asyncio.create_task(gateway.restart(downtime=0.3))
    await eventually(lambda: dropped == [True])
    assert not ib.isConnected()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    await restart
    assert gateway.port == port
    again = await connect(gateway)
    assert len(again.positions()) == 4  # same venue, same account
    assert {f.execution.orderRef for f in again.fills()} == {"alvh-5"}
    assert len(gateway.orders_received("alvh-5")) == 1
    again.disconnect()


async def test_disconnect_clients_keeps_listening(gateway: FakeGateway, ib: IB) -> None:
    await gateway.disconnect_clients()
    await eventually(lambda: not ib.isConnected())
    again = await connect(gateway)
    assert again.isConnected()
    again.disconnect()


async def test_connectivity_lost_and_restored_reach_the_error_event(
    gateway: FakeGateway, ib: IB
) -> None:
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, *_: codes.append(code) if req_id == -1 else None
    gateway.connectivity_lost()
    gateway.connectivity_restored()
    gateway.connectivity_restored(data_lost=True)
    await eventually(lambda: codes == [1100, 1102, 1101])
    assert ib.isConnected()
