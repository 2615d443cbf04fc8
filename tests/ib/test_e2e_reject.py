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
