"""`kill -9` of the real daemon in the middle of a cycle, then a restart: no order is sent twice,
no fill is lost (the journal equals the simulated exchange's record), and a command queued just
before the kill is applied exactly once.

Modeling choices:
- The daemon is the real `alvh run` child process (tests/bot/daemon_process.py). It starts on
  Monday 2018-01-08 09:00 ET at speed 20000, so the 10:00 condor entry comes within a second;
  `execution.step_seconds = 600` stretches the limit walk to tens of milliseconds of wall time
  per step, so that "between placing the order and booking its fills" is wide enough to land in.
- Kill points are log events of the entry cycle: the first `intent`, the first `order`, the
  first `fill`. Right when the event shows in the JSON-lines log, `set ratio 3` is written to the
  journal's `commands` table (what the CLI writes; the cycle holds the job lock, so it is still
  pending), then the process group gets SIGKILL. The crash window actually hit depends on the
  scheduler and is recorded (`crash_window` property), never asserted: every window must pass.
- The restart uses the same config, runs to the Tuesday close, and is stopped with SIGINT.
  Then the venue file is read (after the daemon is gone) and compared with the journal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemon_process import DaemonFiles, DaemonProcess, Event, LogTail, venue_record
from sqlmodel import Session, select

from broker.orders import Fill, intent_id_from_ref, order_ref
from broker.sim.venue_state import VenueState
from storage import commands
from storage.commands import CommandStatus, CommandVerb
from storage.journal import Journal
from storage.tables import IntentRow, OrderRow, StructureRow

MONDAY = "2018-01-08"
LAST_CLOSE = "2018-01-09"  # the restart runs through Tuesday
SPEED = 20000.0
EXTRA = (
    "[execution]\nstep_seconds = 600\n"  # a longer limit walk: a wider window to kill in
    '[schedule]\ncondor_entry = ["0 10 * * mon-fri"]\n'  # a condor even if Monday's is lost
    "[strategy.condor]\nmax_open = 1\n"
)
START_TIMEOUT = 60.0  # wall seconds; the daemon needs a few to load its history
CYCLE_TIMEOUT = 30.0
KILL_POINTS = ("intent", "order", "fill")
RATIO = {"name": "ratio", "value": 3}


@pytest.fixture
def files(tmp_path: Path) -> DaemonFiles:
    files = DaemonFiles(tmp_path)
    files.write_config(MONDAY, SPEED, EXTRA)
    return files


@pytest.fixture
def running(files: DaemonFiles) -> Iterator[list[DaemonProcess]]:
    """The daemons a test started; any still alive at the end is killed."""
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        daemon.ensure_dead()


def start(files: DaemonFiles, running: list[DaemonProcess], tail: LogTail) -> DaemonProcess:
    daemon = DaemonProcess(files.config, files.root / "console.txt")
    running.append(daemon)
    if tail.wait_for(named("daemon starting"), START_TIMEOUT) is None:
        daemon.ensure_dead()
        pytest.fail(f"the daemon did not start:\n{(files.root / 'console.txt').read_text()}")
    return daemon


def named(event: str, job: str | None = None) -> Callable[[Event], bool]:
    return lambda e: e.get("event") == event and (job is None or e.get("job") == job)


@pytest.mark.parametrize("kill_after", KILL_POINTS)
def test_kill9_mid_cycle_then_restart_loses_nothing_and_sends_nothing_twice(
    files: DaemonFiles,
    running: list[DaemonProcess],
    kill_after: str,
    record_property: Callable[[str, object], None],
) -> None:
    journal = Journal(files.journal_url)  # created here, as `alvh set` does with no daemon
    assert commands.commands(journal.engine) == []  # and warmed up: the kill must be quick
    tail = LogTail(files.log)
    try:
        first = start(files, running, tail)
        hit = tail.wait_for(named(kill_after, "condor_entry"), CYCLE_TIMEOUT)
        if hit is None:
            first.kill9()
            pytest.fail(f"kill point {kill_after!r}: no such event in the entry cycle in time")
        command_id = commands.submit(journal.engine, CommandVerb.SET, RATIO, "kill-9 test")
        assert first.kill9() == -9
        entry_ref = order_ref(int(hit["intent_id"]))
        venue_at_kill = venue_record(files.venue)
        unjournaled = len(venue_at_kill.executions) - journal.fill_count()
        assert unjournaled >= 0, "the journal holds fills the venue has not saved"
        record_property("crash_window", crash_window(journal, venue_at_kill, entry_ref))
        at_kill = commands.command(journal.engine, command_id)
        assert at_kill is not None
        record_property("command_at_kill", at_kill.status.value)

        second = start(files, running, tail)
        stale = [e for e in tail.seen if e["event"] == "took over the lock of a stale daemon"]
        assert len(stale) == 1, "the restart did not find the killed daemon's lock stale"
        closed_last_day = tail.wait_for(
            lambda e: e.get("event") == "daily close" and e.get("day") == LAST_CLOSE,
            START_TIMEOUT,
        )
        assert closed_last_day is not None, f"the restart did not reach {LAST_CLOSE}"
        assert second.interrupt() == 0, (files.root / "console.txt").read_text()
        assert tail.wait_for(named("daemon stopped"), 5.0) is not None
        venue = venue_record(files.venue)

        no_reference_executed_twice(venue)
        every_venue_order_is_a_journaled_intent_order(journal, venue)
        journal_fills_equal_venue_executions(journal, venue)
        open_structures_equal_venue_holdings(journal, venue)
        the_killed_entry_was_finished_once(journal, venue, entry_ref)
        assert journal.intents_in_flight() == [], "an intent is still in flight after reconcile"
        the_command_was_applied_once(journal, command_id, tail.seen)
        recovered = [e for e in tail.seen if e["event"] == "fill recovered"]
        assert len(recovered) == unjournaled, "reconcile recovered other fills than were missing"
    finally:
        journal.dispose()


# -- what the kill hit -----------------------------------------------------------------------


def crash_window(journal: Journal, venue: VenueState, ref: str) -> str:
    """Say where in the entry cycle the kill landed, from the journal and the venue after it."""
    working = venue.orders.get(ref)
    if working is None:
        return "intent journaled, order not at the venue"
    if working.is_live:
        return "order working at the venue"
    executed = [f for f in venue.executions if f.order_ref == ref]
    booked = journal.fills_for_ref(ref)
    if len(booked) < len(executed):
        return f"order done at the venue, {len(booked)} of {len(executed)} fills journaled"
    intent_id = intent_id_from_ref(ref)
    if not any(s for s in structure_rows(journal) if s.open_intent_id == intent_id):
        return "fills journaled, structure not booked"
    return "cycle booked"


# -- the checks after the restart ------------------------------------------------------------


def no_reference_executed_twice(venue: VenueState) -> None:
    """Each venue order executed at most its quantity of each leg, and exec ids are unique."""
    assert len({f.exec_id for f in venue.executions}) == len(venue.executions)
    executed: Counter[tuple[str, str]] = Counter()
    for fill in venue.executions:
        executed[(fill.order_ref, fill.contract.key)] += fill.side.sign * fill.quantity
    for ref, working in venue.orders.items():
        assert working.filled <= working.order.quantity, ref
        for leg in working.order.legs:
            expected = leg.signed_ratio * working.filled
            assert executed.pop((ref, leg.contract.key), 0) == expected, (ref, leg)
    assert not executed, f"executions of orders the venue does not know: {executed}"
    filled_legs = Counter(
        tuple((leg.contract.key, leg.side, leg.ratio) for leg in w.order.legs)
        for w in venue.orders.values()
        if w.filled
    )
    assert max(filled_legs.values(), default=1) == 1, "the same combo was filled twice"


def every_venue_order_is_a_journaled_intent_order(journal: Journal, venue: VenueState) -> None:
    """One journal order per intent, one venue order per reference, and they agree."""
    with Session(journal.engine) as session:
        orders = {row.ref: row for row in session.exec(select(OrderRow)).all()}
        intents = {row.id for row in session.exec(select(IntentRow)).all()}
    assert len({row.intent_id for row in orders.values()}) == len(orders)
    for ref, working in venue.orders.items():
        assert intent_id_from_ref(ref) in intents, f"venue order {ref} has no journaled intent"
        row = orders.get(ref)
        assert row is not None, f"venue order {ref} is not in the journal"
        assert row.intent_id == intent_id_from_ref(ref)
        assert (row.status, row.filled) == (working.status.value, working.filled), ref


def fill_key(fill: Fill) -> tuple[object, ...]:
    return (
        fill.exec_id,
        fill.order_ref,
        fill.contract.key,
        fill.side,
        fill.quantity,
        fill.price,
        fill.commission,
        fill.time,
    )


def journal_fills_equal_venue_executions(journal: Journal, venue: VenueState) -> None:
    journaled = journal.last_fills(limit=1_000_000)
    assert journal.fill_count() == len(journaled) == len(venue.executions) > 0
    assert Counter(map(fill_key, journaled)) == Counter(map(fill_key, venue.executions))


def open_structures_equal_venue_holdings(journal: Journal, venue: VenueState) -> None:
    held = {key: h.quantity for key, h in venue.holdings.items() if h.quantity}
    booked: Counter[str] = Counter()
    for structure in journal.open_structures():
        for leg in structure.legs:
            booked[leg.contract.key] += leg.signed_ratio * structure.quantity
    assert {k: q for k, q in booked.items() if q} == held
    assert held, "the condor should still be open on Tuesday"


def structure_rows(journal: Journal) -> list[StructureRow]:
    with Session(journal.engine) as session:
        return list(session.exec(select(StructureRow)).all())


def the_killed_entry_was_finished_once(journal: Journal, venue: VenueState, entry_ref: str) -> None:
    """The killed entry's intent was finished by the restart's reconcile as the venue saw it:
    never sent (failed), cancelled unfilled, or booked as one condor; and a condor exists."""
    killed = intent_id_from_ref(entry_ref)
    assert killed is not None
    opened_by = [s.open_intent_id for s in structure_rows(journal) if s.kind == "iron_condor"]
    assert opened_by, "no condor opened on Monday or Tuesday"
    working = venue.orders.get(entry_ref)
    if working is None:
        assert journal.intent_status(killed) == "failed"
    elif working.filled == 0:
        assert journal.intent_status(killed) == "cancelled"
    if working is None or working.filled == 0:
        assert killed not in opened_by
    else:
        assert opened_by.count(killed) == 1, opened_by


def the_command_was_applied_once(journal: Journal, command_id: int, events: list[Event]) -> None:
    answered = commands.command(journal.engine, command_id)
    assert answered is not None and answered.status is CommandStatus.APPLIED, answered
    assert commands.runtime_state(journal.engine).ratio == 3
    assert [c.id for c in commands.commands(journal.engine)] == [command_id]
    answers = [
        e for e in events if e["event"] == "command answered" and e["command_id"] == command_id
    ]
    assert len(answers) == 1, answers
