"""End to end on IB: the gateway restarts in the middle of an order. The engine's job is skipped,
the adapter reconnects with backoff while the gateway refuses connections, the reconnect hook
reconciles, and the order is never sent twice and its fill never lost: whether the fill came
before the drop, while the gateway was down, or not at all."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
import structlog
from fake_gateway import OrderDisconnect
from structlog.typing import EventDict

from bot.jobs import JobName
from broker.calendar import NY
from broker.orders import order_ref
from broker.sim.exchange import SimExchange
from broker.sim.history import DailyHistory
from broker.sim.venue_state import WorkingOrder
from broker.structures import Engine
from storage.journal import Journal

from .conftest import eventually
from .e2e_system import IbE2eSystem, ib_system

DOWNTIME = 0.6  # seconds the gateway refuses connections: the first reconnect attempts fail
RECONCILED_WITHIN = 8.0
CONDOR_INTENT = 1  # the first intent of the day is the Monday condor
REQ_EXECUTIONS = 7
CANCEL_ORDER = 4
START_API = 71


def logged(logs: list[EventDict], event: str) -> bool:
    return any(e["event"] == event for e in logs)


def condor_intent_done(journal: Journal) -> bool:
    return not any(intent_id == CONDOR_INTENT for intent_id, _, _ in journal.intents_in_flight())


async def restart_during_the_condor_entry(system: IbE2eSystem) -> int:
    """Run the condor entry with a disconnect armed; the gateway restarts the moment the client
    sees its socket close (so no reconnect attempt can slip in before). Wait for the reconnect
    hook's reconcile; return how many executions the venue had when the job stopped (none of
    them journaled then)."""
    restarts: list[asyncio.Task[None]] = []

    def restart_the_gateway() -> None:
        if not restarts:
            restart = system.gateway.restart(downtime=DOWNTIME)
            restarts.append(asyncio.get_running_loop().create_task(restart))

    system.broker.ib.disconnectedEvent += restart_the_gateway
    with structlog.testing.capture_logs() as logs:
        await system.at(10, 0, JobName.CONDOR_ENTRY)  # skipped: the venue became unavailable
        assert restarts, "the armed disconnect did not happen"
        assert logged(logs, "job skipped: venue unavailable")
        assert system.journal.fill_count() == 0
        assert not condor_intent_done(system.journal)
        at_the_venue = len(system.exchange.state.executions)
        await eventually(lambda: logged(logs, "reconciled"), RECONCILED_WITHIN)
        await restarts[0]
    system.broker.ib.disconnectedEvent -= restart_the_gateway
    assert condor_intent_done(system.journal)
    assert logged(logs, "IB reconnect failed")  # refused while the gateway was down
    assert logged(logs, "IB reconnected")
    assert len(system.gateway.requests(START_API)) == 2  # the first session and the reconnect
    return at_the_venue


async def test_fill_made_while_the_gateway_restarts_is_journaled_once_and_not_resent(
    tmp_path: Path, history: DailyHistory
) -> None:
    async with ib_system(tmp_path, history) as system:
        await system.at(9, 40, JobName.SIGNALS)
        # the walk fills the condor; the gateway drops the client when it asks for the
        # executions, so the engine has journaled the order's state but not its fills
        system.gateway.disconnect_on_next(REQ_EXECUTIONS)
        assert await restart_during_the_condor_entry(system) == 4  # filled, one per leg

        ref = order_ref(CONDOR_INTENT)
        assert system.journal.intent_status(CONDOR_INTENT) == "filled"
        [condor] = system.journal.open_structures()
        assert condor.engine is Engine.CONDOR
        venue_fills = sorted(f.exec_id for f in system.exchange.state.executions)
        assert sorted(f.exec_id for f in system.journal.fills_for_ref(ref)) == venue_fills
        assert len(system.order_ids_sent(ref)) == 1 and len(system.venue_orders()) == 1
        assert system.journal_positions() == await system.venue_positions()

        await system.at(10, 30, JobName.HEDGE)  # trading goes on after the restart
        assert any(s.engine is Engine.VIX for s in system.journal.open_structures())
        assert system.journal.fill_count() == len(system.exchange.state.executions)


@pytest.mark.parametrize(
    ("point", "status", "reached_venue"),
    [
        (OrderDisconnect.AFTER_ACK, "cancelled", True),  # working at mid: reconcile cancels it
        (OrderDisconnect.BEFORE_ACK, "cancelled", True),  # the venue has it, nobody heard back
        (OrderDisconnect.BEFORE_VENUE, "failed", False),  # lost on the way: marked, not resent
    ],
)
async def test_order_cut_off_by_a_restart_is_finished_by_reconcile_and_never_resent(
    tmp_path: Path,
    history: DailyHistory,
    point: OrderDisconnect,
    status: str,
    reached_venue: bool,
) -> None:
    async with ib_system(tmp_path, history) as system:
        await system.at(9, 40, JobName.SIGNALS)
        system.gateway.disconnect_on_next_order(point)
        assert await restart_during_the_condor_entry(system) == 0

        ref = order_ref(CONDOR_INTENT)
        assert system.journal.intent_status(CONDOR_INTENT) == status
        assert len(system.order_ids_sent(ref)) == 1  # the walk stopped; nothing sent again
        assert len(system.venue_orders()) == int(reached_venue)
        assert all(not o.is_live for o in system.exchange.state.orders.values())
        assert system.journal.open_structures() == []
        assert system.exchange.state.executions == []
        assert await system.venue_positions() == {}


class HeldExchange(SimExchange):
    """A venue that matches nothing while `hold` is set: orders rest until it is cleared."""

    hold = True

    def _try_fill(self, working: WorkingOrder, now: datetime) -> None:
        if not self.hold:
            super()._try_fill(working, now)


async def test_fill_made_while_the_gateway_is_down_is_journaled_once_by_the_reconcile(
    tmp_path: Path, history: DailyHistory
) -> None:
    async with ib_system(tmp_path, history, venue=HeldExchange) as system:
        venue = system.exchange
        assert isinstance(venue, HeldExchange)
        await system.at(9, 40, JobName.SIGNALS)
        # the walk ends at the natural price unfilled; its cancel closes the client's socket
        # before the venue hears of it, so the order still rests there at natural
        system.gateway.disconnect_on_next(CANCEL_ORDER)
        loop = asyncio.get_running_loop()
        down: list[asyncio.Task[None]] = []
        filled_at = datetime(2018, 1, 8, 10, 5, tzinfo=NY)

        def gateway_down_and_the_order_fills() -> None:
            if down:
                return
            down.append(loop.create_task(system.gateway.restart(downtime=DOWNTIME)))
            venue.hold = False  # a counterparty arrives while no client is connected
            system.clock.advance_to(filled_at)
            down.append(loop.create_task(venue.positions()))  # the venue matches at once

        system.broker.ib.disconnectedEvent += gateway_down_and_the_order_fills
        with structlog.testing.capture_logs() as logs:
            await system.at(10, 0, JobName.CONDOR_ENTRY)  # skipped: the cancel hit the drop
            assert down, "the armed disconnect did not happen"
            await down[1]
            fills = venue.state.executions
            assert len(fills) == 4 and {f.time for f in fills} == {filled_at}  # while down
            assert system.journal.fill_count() == 0
            await eventually(lambda: logged(logs, "reconciled"), RECONCILED_WITHIN)
            await down[0]
        system.broker.ib.disconnectedEvent -= gateway_down_and_the_order_fills

        ref = order_ref(CONDOR_INTENT)
        assert system.journal.intent_status(CONDOR_INTENT) == "filled"
        assert sorted(f.exec_id for f in system.journal.fills_for_ref(ref)) == sorted(
            f.exec_id for f in fills
        )
        [condor] = system.journal.open_structures()
        assert condor.engine is Engine.CONDOR
        assert len(system.gateway.orders_received(ref)) == 5  # mid and 4 steps, nothing resent
        assert len(system.order_ids_sent(ref)) == 1 and len(system.venue_orders()) == 1
        assert system.journal_positions() == await system.venue_positions()
        await system.at(11, 0, JobName.RECONCILE)  # the gateway replays every execution
        assert system.journal.fill_count() == 4
