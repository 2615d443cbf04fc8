"""End to end on IB: the engine connects, reconciles, opens a condor and the VIX layer through
the real client library and the fake gateway; each fill is journaled once; `alvh status` shows
it all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_gateway.client_logs import layout_errors
from typer.testing import CliRunner

from bot.cli import app
from bot.jobs import JobName
from broker.orders import order_ref
from broker.sim.history import DailyHistory
from broker.structures import Engine, StructureKind
from storage.journal import Journal

from .conftest import eventually
from .e2e_system import IbE2eSystem, ib_system

CONNECT_SEQUENCE = {71, 61, 5, 99, 6, 76, 7}  # startApi, positions, orders, account, executions


def all_fills(journal: Journal) -> list[str]:
    return [f.exec_id for f in journal.last_fills(10_000)]


def status_json(config: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["status", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.output)
    return report


def one_new_order_per_intent(system: IbE2eSystem) -> None:
    """Every journaled intent reached the gateway as one IB order (modifications reuse its id)
    and the venue as one order."""
    refs = [order_ref(i.id) for i in system.intents()]
    assert refs
    for ref in refs:
        assert len(system.order_ids_sent(ref)) == 1, ref
    assert len(system.venue_orders()) == len(refs)


async def test_engine_opens_a_condor_and_the_vix_layer_and_journals_each_fill_once(
    tmp_path: Path, history: DailyHistory
) -> None:
    async with ib_system(tmp_path, history) as system:
        assert system.broker.account_id == "DU1234567"
        assert {r.msg_id for r in system.gateway.received} >= CONNECT_SEQUENCE
        assert system.journal.open_structures() == []  # reconciled against an empty account
        await system.open_the_books()

        structures = system.journal.open_structures()
        condors = [s for s in structures if s.engine is Engine.CONDOR]
        layer = [s for s in structures if s.engine is Engine.VIX]
        assert [(c.kind, len(c.legs)) for c in condors] == [(StructureKind.IRON_CONDOR, 4)]
        assert layer, "the 10:30 rebalance bought nothing for the VIX layer"
        assert all(leg.contract.symbol == "VIX" for s in layer for leg in s.legs)
        assert await system.venue_positions() == system.journal_positions()
        venue_fills = [f.exec_id for f in system.exchange.state.executions]
        assert sorted(all_fills(system.journal)) == sorted(venue_fills)  # each one, once
        one_new_order_per_intent(system)

        report = status_json(system.config_path)
        shown = {(s["id"], s["engine"], s["kind"]) for s in report["structures"]}
        assert shown == {(s.id, s.engine.value, s.kind.value) for s in structures}
        assert report["account"]["fills"] == len(venue_fills)
        assert report["account"]["structures_opened"] == len(structures)
        assert report["broker"]["broker"] == "ib"
        assert report["working_orders"] == []
        shown_fills = {f["exec_id"] for f in report["last_fills"]}
        assert shown_fills and shown_fills <= set(venue_fills)


async def test_a_restarted_engine_reconciles_without_journaling_anything_twice(
    tmp_path: Path, history: DailyHistory
) -> None:
    async with ib_system(tmp_path, history) as system:
        await system.open_the_books()
        fills = sorted(all_fills(system.journal))
        held = system.journal_positions()
        orders_before = len(system.gateway.orders_received())
        await system.at(11, 0, JobName.RECONCILE)  # the gateway replays every execution
        await system.engine.stop()
        system.restart_engine()
        await system.engine.start()  # a new client session: executions sent again
        await system.at(11, 5, JobName.RECONCILE)

        assert sorted(all_fills(system.journal)) == fills
        assert system.journal_positions() == held == await system.venue_positions()
        assert len(system.gateway.orders_received()) == orders_before  # nothing sent again
        assert len(system.gateway.requests(7)) >= 4  # reqExecutions on each connect and job


async def test_a_message_the_library_cannot_decode_is_seen_by_the_suites_check(
    tmp_path: Path, history: DailyHistory, caplog: pytest.LogCaptureFixture
) -> None:
    async with ib_system(tmp_path, history) as system:
        await system.at(10, 0, JobName.RECONCILE)
        system.gateway.send_raw(["1", "6", "1", "1", "2.5", "3"])  # tickPrice short of a field
        await eventually(lambda: bool(layout_errors(caplog.get_records("call"))))
    [error] = layout_errors(caplog.get_records("call"))
    assert error.startswith("Error handling fields")
    caplog.clear()  # wanted here: conftest's autouse check fails any other test that logs it
