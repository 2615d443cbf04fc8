"""The daily mark history: a past moment is seen with the marks journaled by then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

import storage.journal as journal_module
from broker.contracts import OptionContract, Right
from broker.orders import Leg, Side
from broker.structures import Engine, Intent, IntentKind, StructureKind
from storage.journal import Journal
from storage.tables import MarkRow

MON_1545 = datetime(2018, 2, 12, 20, 45, tzinfo=UTC)  # 15:45 New York
MON_1000 = datetime(2018, 2, 12, 15, 0, tzinfo=UTC)
LEGS = tuple(
    Leg(OptionContract("SPX", "SPXW", datetime(2018, 3, 16).date(), k, r), side)
    for k, r, side in (
        (2600.0, Right.PUT, Side.BUY),
        (2650.0, Right.PUT, Side.SELL),
        (2850.0, Right.CALL, Side.SELL),
        (2900.0, Right.CALL, Side.BUY),
    )
)


def open_condor(journal: Journal, opened_at: datetime = MON_1000) -> tuple[int, int]:
    intent = Intent(
        IntentKind.OPEN, Engine.CONDOR, StructureKind.IRON_CONDOR, LEGS, 2, -2.35, "test"
    )
    intent_id = journal.record_intent(intent, opened_at)
    structure_id = journal.open_structure(
        intent_id=intent_id,
        engine=Engine.CONDOR,
        kind=StructureKind.IRON_CONDOR,
        legs=LEGS,
        quantity=2,
        open_price=-2.35,
        opened_at=opened_at,
    )
    return intent_id, structure_id


def test_the_last_mark_of_each_new_york_day_is_kept_and_used_for_that_day() -> None:
    journal = Journal.in_memory()
    _, sid = open_condor(journal, opened_at=MON_1000 - timedelta(hours=1))
    journal.record_marks({sid: -2.10}, MON_1000)
    journal.record_marks({sid: -1.80}, MON_1545)  # replaces Monday's earlier mark
    journal.record_marks({sid: -3.00}, MON_1545 + timedelta(days=1))  # Tuesday
    with Session(journal._engine) as session:
        kept = session.exec(select(MarkRow).order_by(MarkRow.day)).all()
    assert [(r.day.isoformat(), r.mark) for r in kept] == [
        ("2018-02-12", -1.80),
        ("2018-02-13", -3.00),
    ]
    monday_night = datetime(2018, 2, 13, 5, 0, tzinfo=UTC)  # midnight New York
    [held] = journal.structures_held_at(monday_night)
    assert (held.mark, held.marked_at) == (-1.80, MON_1545)
    [later] = journal.structures_held_at(MON_1545 + timedelta(days=2))
    assert later.mark == -3.00
    [before] = journal.structures_held_at(MON_1000)  # nothing journaled before it
    assert before.mark is None


def test_rolls_between_reads_the_rolls_table() -> None:
    from storage.commands import RollRow

    journal = Journal.in_memory()
    _, old = open_condor(journal)
    _, new = open_condor(journal)
    with Session(journal._engine) as session:
        session.add(
            RollRow(
                time=MON_1545,
                old_structure_id=old,
                new_structure_id=new,
                engine="condor",
                reason="operator roll",
                net_price=-0.40,
            )
        )
        session.commit()
    [roll] = journal.rolls_between(MON_1000, MON_1545 + timedelta(seconds=1))
    assert (roll.old_structure_id, roll.new_structure_id, roll.net_price) == (old, new, -0.40)
    assert journal.rolls_between(MON_1000, MON_1545) == []


def test_recovery_start_is_the_newest_fill_or_the_oldest_order_in_flight() -> None:
    from broker.orders import Fill, Order, order_ref

    journal = Journal.in_memory()
    assert journal.recovery_start() is None  # nothing journaled: everything is wanted
    intent_id, _ = open_condor(journal)
    journal.record_order(intent_id, Order(order_ref(intent_id), LEGS, 2, -2.35), MON_1000)
    fill = Fill("x-1", order_ref(intent_id), LEGS[0].contract, Side.BUY, 2, 1.0, 2.5, MON_1545)
    assert journal.record_fill(fill)
    journal.set_intent_status(intent_id, "filled", "")  # its order is done
    assert journal.recovery_start() == MON_1545
    pending = Intent(IntentKind.OPEN, Engine.CONDOR, StructureKind.IRON_CONDOR, LEGS, 1, -2.0, "t")
    in_flight = journal.record_intent(pending, MON_1000)
    journal.record_order(in_flight, Order(order_ref(in_flight), LEGS, 1, -2.0), MON_1000)
    assert journal.recovery_start() == MON_1000  # an order still in flight goes back further


@pytest.mark.parametrize("cached", [False, True])
def test_only_open_structures_get_marks_whether_or_not_they_are_cached(cached: bool) -> None:
    journal = Journal.in_memory()
    journal.cache_open_structures = cached
    _, kept = open_condor(journal)
    _, gone = open_condor(journal)
    assert {s.id for s in journal.open_structures()} == {kept, gone}  # fills the cache
    journal.close_structure(gone, close_price=1.0, closed_at=MON_1000, reason="test")
    assert [s.id for s in journal.open_structures()] == [kept]  # cached again when cached
    journal.record_marks({kept: -2.10, gone: -9.99}, MON_1545)
    with Session(journal._engine) as session:
        marked = session.exec(select(MarkRow.structure_id)).all()
    assert marked == [kept]
    assert journal.open_marks() == {kept: (-2.10, MON_1545)}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_days_mark_is_an_upsert_in_both_supported_dialects(dialect: str) -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    statements = journal_module._mark_statements(dialect)
    compiled = str(
        statements.daily.compile(
            dialect=postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
        )
    )
    assert "ON CONFLICT (structure_id, day) DO UPDATE SET mark = excluded.mark" in compiled
