"""A roll is booked whole (old closed, new opened, linked); hedge snapshots read back equal."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from broker.contracts import OptionContract, Right
from broker.orders import Leg, Side
from broker.structures import Engine, Intent, IntentKind, StructureKind
from storage import hedge_snapshots
from storage.hedge_snapshots import HedgeSnapshot
from storage.journal import Journal
from strategies.hedge_state import Signals

EXPIRY = date(2018, 3, 16)
T0 = datetime(2018, 2, 14, 15, 30, tzinfo=UTC)


def spxw(strike: float, right: Right) -> OptionContract:
    return OptionContract("SPX", "SPXW", EXPIRY, strike, right)


PUT_SIDE = (Leg(spxw(2600.0, Right.PUT), Side.BUY), Leg(spxw(2650.0, Right.PUT), Side.SELL))
CALL_SIDE = (Leg(spxw(2850.0, Right.CALL), Side.SELL), Leg(spxw(2900.0, Right.CALL), Side.BUY))
NEW_PUTS = (Leg(spxw(2500.0, Right.PUT), Side.BUY), Leg(spxw(2550.0, Right.PUT), Side.SELL))


def intent(kind: IntentKind, legs: tuple[Leg, ...], structure_id: int | None = None) -> Intent:
    return Intent(
        kind, Engine.CONDOR, StructureKind.IRON_CONDOR, legs, 3, -1.0, "test", structure_id
    )


@pytest.fixture
def journal(journal_url: str) -> Iterator[Journal]:
    journal = Journal(journal_url)  # SQLite, then PostgreSQL
    yield journal
    journal.dispose()


def test_a_roll_closes_the_old_opens_the_new_and_links_them(journal: Journal) -> None:
    opened_by = journal.record_intent(intent(IntentKind.OPEN, PUT_SIDE + CALL_SIDE), T0)
    old = journal.open_structure(
        intent_id=opened_by,
        engine=Engine.CONDOR,
        kind=StructureKind.IRON_CONDOR,
        legs=PUT_SIDE + CALL_SIDE,
        quantity=3,
        open_price=-2.0,
        opened_at=T0,
    )
    roll_legs = tuple(leg.reversed() for leg in PUT_SIDE) + NEW_PUTS
    roll_id = journal.record_intent(intent(IntentKind.ROLL, roll_legs, old), T0)
    later = T0 + timedelta(days=3)
    closed, new = journal.roll_structure(
        old,
        intent_id=roll_id,
        units=2,
        close_price=3.5,
        new_legs=CALL_SIDE + NEW_PUTS,
        new_open_price=-3.8,
        rolled_at=later,
        reason="put side tested",
        net_price=-0.3,
    )
    assert closed != old  # two of three units rolled: the rest stays open under the old id
    left = journal.structure(old)
    assert left is not None and left.quantity == 1
    rolled = journal.structure(new)
    assert rolled is not None and rolled.quantity == 2 and rolled.legs == CALL_SIDE + NEW_PUTS
    assert rolled.open_price == -3.8
    assert journal.structure_status(closed) == "closed"
    assert journal.intent_status(roll_id) == "filled"
    (row,) = journal.rolls_between(T0, later + timedelta(seconds=1))
    assert (row.old_structure_id, row.new_structure_id, row.net_price) == (closed, new, -0.3)
    # opened for a 2.00 credit, closed for 3.50: 1.50 lost on each of 2 units x 100
    assert math.isclose(journal.realized_pnl(), -300.0)


def test_a_roll_of_an_unknown_structure_writes_nothing(journal: Journal) -> None:
    roll_id = journal.record_intent(intent(IntentKind.ROLL, NEW_PUTS, 99), T0)
    with pytest.raises(KeyError):
        journal.roll_structure(
            99,
            intent_id=roll_id,
            units=1,
            close_price=1.0,
            new_legs=NEW_PUTS,
            new_open_price=-1.0,
            rolled_at=T0,
            reason="x",
            net_price=0.0,
        )
    assert journal.open_structures() == [] and journal.rolls_between(T0, T0 + timedelta(1)) == []
    assert journal.intent_status(roll_id) != "filled"


def test_hedge_snapshots_read_back_and_latest_is_per_job(journal: Journal) -> None:
    signals = Signals(date(2018, 2, 13), True, -1, 28.5, "low", date(2018, 2, 9), 0.52)
    first = HedgeSnapshot(T0, date(2018, 2, 14), "signals", signals, 1.0, 1.2, 2, 1.0)
    second = HedgeSnapshot(
        T0 + timedelta(hours=1),
        date(2018, 2, 14),
        "rebalance",
        Signals(),
        1.1,
        1.1,
        3,
        0.5,
        -12_000.0,
        9_000.0,
        1_500.0,
        "k raised",
    )
    hedge_snapshots.record(journal.engine, first)
    hedge_snapshots.record(journal.engine, second)
    assert hedge_snapshots.history(journal.engine) == [first, second]
    assert hedge_snapshots.history(journal.engine, "rebalance") == [second]
    assert hedge_snapshots.latest(journal.engine, "signals") == first
    back = hedge_snapshots.latest(journal.engine)
    assert back is not None and back.k == 1.1 and math.isnan(back.signals.r2)
    assert back.notes == "k raised" and back.ratio == 3
