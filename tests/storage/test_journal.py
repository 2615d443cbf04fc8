"""Journal scenarios: each fact is written whole, read back equal, and never half-written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlmodel import Session, func, select

import storage.journal as journal_module
from broker.account import AccountSnapshot
from broker.contracts import FutureContract, IndexContract, OptionContract, Right
from broker.orders import Fill, Leg, Order, OrderState, OrderStatus, Side, order_ref
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from storage.journal import Journal
from storage.tables import LegRow, OrderEventRow, StructureRow

EXPIRY = date(2018, 3, 16)
T0 = datetime(2018, 2, 14, 15, 30, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


def spxw(strike: float, right: Right) -> OptionContract:
    return OptionContract("SPX", "SPXW", EXPIRY, strike, right)


CONDOR_LEGS = (
    Leg(spxw(2600.0, Right.PUT), Side.BUY),
    Leg(spxw(2650.0, Right.PUT), Side.SELL),
    Leg(spxw(2850.0, Right.CALL), Side.SELL),
    Leg(spxw(2900.0, Right.CALL), Side.BUY),
)
VIX_FUTURE = FutureContract("VIX", "VX", date(2018, 3, 21))


def condor_intent(quantity: int = 2, limit_price: float = -2.35) -> Intent:
    return Intent(
        kind=IntentKind.OPEN,
        engine=Engine.CONDOR,
        structure_kind=StructureKind.IRON_CONDOR,
        legs=CONDOR_LEGS,
        quantity=quantity,
        limit_price=limit_price,
        reason="45 DTE, 16-delta shorts, IV rank 62",
    )


def condor_fill(exec_id: str, ref: str, leg: Leg, time: datetime, commission: float) -> Fill:
    return Fill(
        exec_id=exec_id,
        order_ref=ref,
        contract=leg.contract,
        side=leg.side,
        quantity=2,
        price=3.1,
        commission=commission,
        time=time,
    )


def open_condor(journal: Journal, opened_at: datetime = T0) -> tuple[int, int]:
    intent_id = journal.record_intent(condor_intent(), opened_at)
    structure_id = journal.open_structure(
        intent_id=intent_id,
        engine=Engine.CONDOR,
        kind=StructureKind.IRON_CONDOR,
        legs=CONDOR_LEGS,
        quantity=2,
        open_price=-2.35,
        opened_at=opened_at,
    )
    return intent_id, structure_id


def count_rows(
    journal: Journal, table: type[StructureRow] | type[LegRow] | type[OrderEventRow]
) -> int:
    with Session(journal.engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


@pytest.fixture
def journal(journal_url: str) -> Iterator[Journal]:
    journal = Journal(journal_url)  # SQLite, then PostgreSQL
    yield journal
    journal.dispose()


def test_recorded_intents_rebuild_equal_to_the_originals(journal: Journal) -> None:
    opening = condor_intent()
    closing = Intent(
        kind=IntentKind.CLOSE,
        engine=Engine.VIX,
        structure_kind=StructureKind.FUTURES_RUNG,
        legs=(Leg(VIX_FUTURE, Side.SELL, ratio=3),),
        quantity=1,
        limit_price=14.05,
        reason="VIX spike: take profit on rung 2",
        structure_id=7,
    )

    opening_id = journal.record_intent(opening, T0)
    closing_id = journal.record_intent(closing, T0)

    assert opening_id != closing_id
    assert journal.intent(opening_id) == opening
    assert journal.intent(closing_id) == closing


def test_new_intent_is_in_flight_until_it_settles(journal: Journal) -> None:
    intent_id = journal.record_intent(condor_intent(), T0)
    assert journal.intents_in_flight() == [(intent_id, condor_intent(), "new")]

    journal.set_intent_status(intent_id, "cancelled", "walked to the floor, no fill")

    assert journal.intents_in_flight() == []
    assert journal.intent_status(intent_id) == "cancelled"


def test_unknown_intent_status_is_refused(journal: Journal) -> None:
    intent_id = journal.record_intent(condor_intent(), T0)
    with pytest.raises(ValueError):
        journal.set_intent_status(intent_id, "done")
    assert journal.intent_status(intent_id) == "new"


def test_recording_the_order_marks_the_intent_sent(journal: Journal) -> None:
    intent_id = journal.record_intent(condor_intent(), T0)
    ref = order_ref(intent_id)

    journal.record_order(intent_id, Order(ref, CONDOR_LEGS, 2, -2.35), T0)

    assert journal.intents_in_flight() == [(intent_id, condor_intent(), "sent")]
    assert journal.order_state(ref) == OrderState(
        ref=ref,
        broker_order_id="",
        status=OrderStatus.PENDING,
        filled=0,
        remaining=2,
        limit_price=-2.35,
    )
    assert journal.order_state("alvh-999") is None


def test_order_for_unknown_intent_writes_nothing(journal: Journal) -> None:
    with pytest.raises(KeyError):
        journal.record_order(42, Order("alvh-42", CONDOR_LEGS, 2, -2.35), T0)
    assert journal.order_state("alvh-42") is None


def test_order_states_append_to_the_history(journal: Journal) -> None:
    intent_id = journal.record_intent(condor_intent(), T0)
    ref = order_ref(intent_id)
    journal.record_order(intent_id, Order(ref, CONDOR_LEGS, 2, -2.35), T0)
    states = [
        OrderState(ref, "1001", OrderStatus.WORKING, 0, 2, -2.35),
        OrderState(ref, "1001", OrderStatus.WORKING, 0, 2, -2.30, message="walked"),
        OrderState(ref, "1001", OrderStatus.PARTIAL, 1, 1, -2.30, avg_fill_price=-2.30),
        OrderState(ref, "1001", OrderStatus.FILLED, 2, 0, -2.30, avg_fill_price=-2.30),
    ]

    for minutes, state in enumerate(states):
        journal.record_order_state(state, T0 + timedelta(minutes=minutes))

    assert journal.order_state(ref) == states[-1]
    assert journal.order_history(ref) == states
    assert count_rows(journal, OrderEventRow) == 4


def test_a_state_without_the_venues_order_id_keeps_the_one_journaled(journal: Journal) -> None:
    intent_id = journal.record_intent(condor_intent(), T0)
    ref = order_ref(intent_id)
    journal.record_order(intent_id, Order(ref, CONDOR_LEGS, 2, -2.35), T0)
    journal.record_order_state(OrderState(ref, "1001", OrderStatus.WORKING, 0, 2, -2.35), T0)
    journal.record_order_state(OrderState(ref, "", OrderStatus.CANCELLED, 0, 2, -2.35), T0)
    state = journal.order_state(ref)
    assert state is not None and state.broker_order_id == "1001"
    assert state.status is OrderStatus.CANCELLED


def test_state_of_an_unknown_order_raises_key_error(journal: Journal) -> None:
    with pytest.raises(KeyError):
        journal.record_order_state(OrderState("alvh-5", "1", OrderStatus.WORKING, 0, 1, 1.0), T0)
    assert count_rows(journal, OrderEventRow) == 0


def test_fill_delivered_twice_is_stored_once(journal: Journal) -> None:
    fill = condor_fill("0001f4e8.01", "alvh-1", CONDOR_LEGS[0], T0, 1.3)

    assert journal.record_fill(fill) is True
    assert journal.record_fill(fill) is False
    assert journal.fill_count() == 1
    assert journal.last_fills() == [fill]


def test_a_fill_journaled_between_the_lookup_and_the_insert_is_still_stored_once(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill = condor_fill("0001f4e8.01", "alvh-1", CONDOR_LEGS[0], T0, 1.3)
    journal.record_fill(fill)  # "another writer", already there
    lookups = []
    real_lookup = journal_module._fill_id

    def blind_first_lookup(session: Any, exec_id: str) -> int | None:
        lookups.append(exec_id)
        return None if len(lookups) == 1 else real_lookup(session, exec_id)

    monkeypatch.setattr(journal_module, "_fill_id", blind_first_lookup)
    assert journal.record_fill(fill) is False  # the unique exec_id refused the insert
    assert lookups == [fill.exec_id, fill.exec_id]
    assert journal.fill_count() == 1


def test_fills_for_ref_returns_that_orders_fills_oldest_first(journal: Journal) -> None:
    late = condor_fill("e2", "alvh-1", CONDOR_LEGS[1], T0 + timedelta(seconds=2), 1.3)
    early = condor_fill("e1", "alvh-1", CONDOR_LEGS[0], T0 + timedelta(seconds=1), 1.3)
    other = condor_fill("e3", "alvh-2", CONDOR_LEGS[2], T0, 1.3)
    for fill in (late, other, early):
        journal.record_fill(fill)

    assert journal.fills_for_ref("alvh-1") == [early, late]
    assert journal.fills_for_ref("alvh-3") == []
    assert journal.last_fills(limit=2) == [late, early]


def test_commissions_for_intent_sum_only_that_intents_fills(journal: Journal) -> None:
    intent_id = journal.record_intent(condor_intent(), T0)
    ref = order_ref(intent_id)
    journal.record_order(intent_id, Order(ref, CONDOR_LEGS, 2, -2.35), T0)
    for i, leg in enumerate(CONDOR_LEGS):
        journal.record_fill(condor_fill(f"x{i}", ref, leg, T0, 1.25))
    journal.record_fill(condor_fill("foreign", "manual-7", CONDOR_LEGS[0], T0, 9.0))

    assert journal.commissions_for_intent(intent_id) == pytest.approx(5.0)
    assert journal.commissions_for_intent(intent_id + 1) == 0.0


def test_opened_structure_comes_back_equal(journal: Journal) -> None:
    intent_id, structure_id = open_condor(journal)

    expected = Structure(
        id=structure_id,
        engine=Engine.CONDOR,
        kind=StructureKind.IRON_CONDOR,
        legs=CONDOR_LEGS,
        quantity=2,
        open_price=-2.35,
        opened_at=T0,
    )
    [structure] = journal.open_structures()
    assert structure == expected
    assert structure.opened_at.tzinfo is UTC
    assert journal.structure(structure_id) == expected
    assert journal.structure_status(structure_id) == "open"
    assert journal.intent_status(intent_id) == "filled"
    assert journal.intents_in_flight() == []


def test_futures_structure_keeps_its_multiplier_and_leg_types(journal: Journal) -> None:
    intent_id = journal.record_intent(condor_intent(), T0)
    legs = (Leg(VIX_FUTURE, Side.BUY, ratio=2),)
    structure_id = journal.open_structure(
        intent_id=intent_id,
        engine=Engine.VIX,
        kind=StructureKind.FUTURES_RUNG,
        legs=legs,
        quantity=1,
        open_price=15.25,
        opened_at=T0,
        multiplier=1000,
    )

    structure = journal.structure(structure_id)
    assert structure is not None
    assert structure.legs == legs
    assert isinstance(structure.legs[0].contract, FutureContract)
    assert structure.multiplier == 1000
    assert journal.structure(structure_id + 1) is None
    assert journal.structure_status(structure_id + 1) is None


def test_close_structure_realizes_pnl_net_of_commissions(journal: Journal) -> None:
    _, structure_id = open_condor(journal)
    close_id = journal.record_intent(condor_intent(), T0)
    closed_at = T0 + timedelta(days=20)

    journal.close_structure(
        structure_id,
        close_price=0.40,
        closed_at=closed_at,
        reason="50% profit target",
        commissions=10.4,
        intent_id=close_id,
    )

    expected_pnl = -(-2.35 + 0.40) * 100 * 2 - 10.4  # 390 credit kept minus commissions
    assert journal.open_structures() == []
    assert journal.structure_status(structure_id) == "closed"
    assert journal.intent_status(close_id) == "filled"
    assert journal.realized_pnl() == pytest.approx(expected_pnl)
    assert journal.structure_counts() == {"opened": 1, "closed": 1}
    [(structure, at, price, reason, pnl)] = journal.closed_structures()
    assert structure == journal.structure(structure_id)
    assert (at, price, reason) == (closed_at, 0.40, "50% profit target")
    assert pnl == pytest.approx(379.6)


def test_closing_a_closed_structure_raises_and_keeps_the_first_close(journal: Journal) -> None:
    _, structure_id = open_condor(journal)
    journal.close_structure(structure_id, close_price=0.40, closed_at=T0, reason="target")

    with pytest.raises(ValueError):
        journal.close_structure(structure_id, close_price=5.0, closed_at=T0, reason="again")

    [(_, _, price, reason, pnl)] = journal.closed_structures()
    assert (price, reason) == (0.40, "target")
    assert pnl == pytest.approx(390.0)


def test_close_with_unknown_intent_rolls_back_the_close(journal: Journal) -> None:
    _, structure_id = open_condor(journal)

    with pytest.raises(KeyError):
        journal.close_structure(
            structure_id, close_price=0.40, closed_at=T0, reason="target", intent_id=999
        )

    assert journal.structure_status(structure_id) == "open"
    assert journal.realized_pnl() == 0.0


def test_open_structure_failing_midway_writes_nothing(journal: Journal) -> None:
    intent_id = journal.record_intent(condor_intent(), T0)
    not_tradable = Leg(IndexContract("SPX"), Side.BUY)  # type: ignore[arg-type]

    with pytest.raises(TypeError):
        journal.open_structure(
            intent_id=intent_id,
            engine=Engine.CONDOR,
            kind=StructureKind.IRON_CONDOR,
            legs=(*CONDOR_LEGS[:2], not_tradable),
            quantity=2,
            open_price=-2.35,
            opened_at=T0,
        )

    assert count_rows(journal, StructureRow) == 0
    assert count_rows(journal, LegRow) == 0
    assert journal.intent_status(intent_id) == "new"
    assert journal.structure_counts() == {"opened": 0, "closed": 0}


def test_equity_keeps_the_last_write_of_each_day(journal: Journal) -> None:
    day1, day2 = date(2018, 2, 14), date(2018, 2, 15)
    journal.record_equity(day2, AccountSnapshot("DU1", T0 + timedelta(days=1), 101_500.0, 0, 0))
    journal.record_equity(day1, AccountSnapshot("DU1", T0, 100_000.0, 90_000.0, 8_000.0))
    journal.record_equity(day1, AccountSnapshot("DU1", T0 + timedelta(hours=1), 100_250.0, 0, 0))

    assert journal.equity_curve() == [(day1, 100_250.0), (day2, 101_500.0)]


def test_datetimes_come_back_as_the_same_instant_in_utc(journal: Journal) -> None:
    opened_at = datetime(2018, 2, 14, 10, 30, 15, 123456, tzinfo=NEW_YORK)
    _, structure_id = open_condor(journal, opened_at=opened_at)
    journal.record_fill(condor_fill("e1", "alvh-1", CONDOR_LEGS[0], opened_at, 1.0))

    structure = journal.structure(structure_id)
    [fill] = journal.last_fills()
    assert structure is not None
    for stored in (structure.opened_at, fill.time):
        assert stored == opened_at
        assert stored.tzinfo is UTC
        assert stored.hour == 15  # 10:30 EST is 15:30 UTC


def test_naive_datetime_is_refused(journal: Journal) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        journal.record_intent(condor_intent(), datetime(2018, 2, 14, 15, 30))
    assert journal.intents_in_flight() == []


def test_sqlite_file_journal_survives_reopening_in_wal_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'journal.db'}"
    first = Journal(url)
    with first.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    intent_id, structure_id = open_condor(first)
    fill = condor_fill("e1", order_ref(intent_id), CONDOR_LEGS[0], T0, 1.3)
    first.record_fill(fill)
    first.dispose()

    reopened = Journal(url)

    assert (tmp_path / "nested" / "journal.db").exists()
    assert reopened.intent(intent_id) == condor_intent()
    assert [s.id for s in reopened.open_structures()] == [structure_id]
    assert reopened.open_structures()[0].opened_at == T0
    assert reopened.fills_for_ref(order_ref(intent_id)) == [fill]
    assert reopened.record_fill(fill) is False
