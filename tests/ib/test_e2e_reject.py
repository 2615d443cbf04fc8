"""End to end on IB: an order IB rejects (error 201) is journaled with IB's reason, once, and
not sent again: not by the walk, not by the next jobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.jobs import JobName
from broker.orders import OrderStatus, order_ref
from broker.sim.history import DailyHistory
from broker.structures import Engine

from .e2e_system import ib_system

REASON = "YOUR ORDER IS NOT ACCEPTED. NOT ENOUGH EQUITY WITH LOAN VALUE"
CANCEL_ORDER = 4
CONDOR_INTENT = 1


@pytest.mark.parametrize("final", ["Inactive", "Cancelled"])
async def test_rejected_condor_is_journaled_once_and_not_retried_in_a_storm(
    tmp_path: Path, history: DailyHistory, final: str
) -> None:
    async with ib_system(tmp_path, history) as system:
        await system.at(9, 40, JobName.SIGNALS)
        system.gateway.reject_next_order(REASON, status=final)
        await system.at(10, 0, JobName.CONDOR_ENTRY)

        ref = order_ref(CONDOR_INTENT)
        assert system.journal.intent_status(CONDOR_INTENT) == "rejected"
        [journaled] = system.intents()
        assert REASON in journaled.status_message
        history_of_order = system.journal.order_history(ref)
        assert history_of_order[-1].status is OrderStatus.REJECTED
        assert len(system.gateway.orders_received(ref)) == 1  # no walk after a reject
        assert system.gateway.requests(CANCEL_ORDER) == []
        assert system.venue_orders() == []  # it never reached the venue

        await system.at(10, 15, JobName.MANAGE)
        await system.at(10, 20, JobName.CONDOR_ENTRY)  # a later trigger: a new intent, once
        assert len(system.gateway.orders_received(ref)) == 1  # never sent again
        assert system.journal.intent_status(CONDOR_INTENT) == "rejected"
        retry = order_ref(CONDOR_INTENT + 1)
        assert len(system.order_ids_sent(retry)) == 1
        assert [s.engine for s in system.journal.open_structures()] == [Engine.CONDOR]
        assert [i.status for i in system.intents()] == ["rejected", "filled"]


async def test_a_gateway_that_rejects_every_order_gets_each_intent_once_all_day(
    tmp_path: Path, history: DailyHistory
) -> None:
    async with ib_system(tmp_path, history) as system:
        await system.at(9, 40, JobName.SIGNALS)
        await system.at(10, 0, JobName.CONDOR_ENTRY)  # fills: the layer has a book to hedge
        [condor] = system.intents()
        assert condor.status == "filled"
        system.gateway.reject_next_order(REASON, count=None)  # every new order from now on
        await system.at(10, 15, JobName.ROLLS)
        await system.at(10, 30, JobName.HEDGE)
        tried = system.intents()[1:]
        assert tried, "the layer tried nothing: the test needs its orders"
        assert {i.intent.engine for i in tried} == {Engine.VIX}
        for hour, minute in [(h, m) for h in range(10, 16) for m in (0, 15, 30, 45)][3:]:
            await system.at(hour, minute, JobName.MANAGE)  # 10:45 .. 15:45
        await system.at(16, 20, JobName.DAILY_CLOSE)

        day = system.intents()[1:]
        assert [i.id for i in day] == [i.id for i in tried]  # nothing was tried again
        assert {i.status for i in day} == {"rejected"}
        assert all(REASON in i.status_message for i in day)
        for journaled in day:
            assert len(system.gateway.orders_received(order_ref(journaled.id))) == 1
        assert system.gateway.requests(CANCEL_ORDER) == []
        assert system.venue_orders() == [order_ref(condor.id)]  # only the condor reached it
        assert [s.engine for s in system.journal.open_structures()] == [Engine.CONDOR]
