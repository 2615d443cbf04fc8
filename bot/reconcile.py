"""Reconcile the journal with the venue: on every start and every morning, one code path.

1. Executions of our orders the journal has not seen are journaled (fills are unique by
   execution id, so a replayed execution is a no-op).
2. Intents left in flight by a stop or a crash are finished: an order the venue never saw
   is marked failed and NOT resent; a working one is cancelled; what filled is booked.
3. Open structures whose legs the venue no longer holds (expired, or closed by hand) are
   closed in the journal at their last mark, with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import structlog

from bot.clock import Clock
from bot.executor import Executor
from broker.calendar import NY
from broker.orders import intent_id_from_ref, order_ref
from broker.protocol import Broker
from broker.structures import Structure
from storage.journal import Journal

log = structlog.get_logger("alvh.reconcile")


@dataclass
class ReconcileReport:
    fills_added: int = 0
    intents_finished: list[int] = field(default_factory=list)
    intents_failed: list[int] = field(default_factory=list)
    structures_closed: list[int] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)


async def reconcile(
    broker: Broker, journal: Journal, executor: Executor, clock: Clock
) -> ReconcileReport:
    """Bring the journal in line with the venue's executions, orders and positions."""
    report = ReconcileReport()
    # Only what the journal can lack: fetching every execution since the account opened made
    # each morning's reconcile slower as the weeks went by.
    executions = await broker.executions(journal.recovery_start())
    for fill in executions:
        if intent_id_from_ref(fill.order_ref) is not None and journal.record_fill(fill):
            report.fills_added += 1
            log.info("fill recovered", order_ref=fill.order_ref, exec_id=fill.exec_id)
    for intent_id, intent, _status in journal.intents_in_flight():
        ref = order_ref(intent_id)
        state = await broker.order_state(ref)
        if state is None:
            journal.set_intent_status(
                intent_id, "failed", "stopped before the order reached the venue; not resent"
            )
            report.intents_failed.append(intent_id)
            log.warning("intent never sent", intent_id=intent_id, order_ref=ref)
            continue
        if not state.status.is_final:
            state = await broker.cancel_order(ref)
            executions = await broker.executions(journal.recovery_start())  # filled first?
        journal.record_order_state(state, clock.now())
        await executor.settle(intent_id, intent, state, executions)
        report.intents_finished.append(intent_id)
        log.info("intent finished", intent_id=intent_id, status=state.status.value)
    await _close_missing(broker, journal, clock, report)
    log.info(
        "reconciled",
        fills_added=report.fills_added,
        finished=report.intents_finished,
        failed=report.intents_failed,
        closed=report.structures_closed,
        untracked=report.untracked,
    )
    return report


async def _close_missing(
    broker: Broker, journal: Journal, clock: Clock, report: ReconcileReport
) -> None:
    held = {p.contract.key: p.quantity for p in await broker.positions()}
    remaining = dict(held)
    marks = journal.open_marks()
    for structure in journal.open_structures():
        if _take(structure, remaining):
            continue
        mark = marks.get(structure.id, (0.0, None))[0]
        expired = min(leg.contract.expiry for leg in structure.legs) <= (
            clock.now().astimezone(NY).date()
        )
        why = "expired and settled at the venue" if expired else "no longer held at the venue"
        journal.close_structure(
            structure.id,
            close_price=-mark,
            closed_at=clock.now(),
            reason=f"reconcile: {why}; closed at its last mark {mark:+.2f}",
        )
        report.structures_closed.append(structure.id)
        log.warning("structure closed by reconcile", structure_id=structure.id, why=why)
    report.untracked = [key for key, qty in remaining.items() if qty]
    for key in report.untracked:
        log.warning("position not managed by the bot", contract=key, qty=remaining[key])


def _take(structure: Structure, remaining: dict[str, int]) -> bool:
    """Consume this structure's legs from the venue's positions; False if any is missing."""
    need: dict[str, int] = defaultdict(int)
    for leg in structure.legs:
        need[leg.contract.key] += leg.signed_ratio * structure.quantity
    for key, qty in need.items():
        have = remaining.get(key, 0)
        if have * qty <= 0 or abs(have) < abs(qty):
            return False
    for key, qty in need.items():
        remaining[key] -= qty
    return True
