"""Orders larger than the displayed size fill in parts: the journal books exactly what filled,
and a partially filled close splits the structure so the journal always matches the venue."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from bot.clock import VirtualClock
from bot.config import AppConfig, ExecutionConfig
from bot.executor import Executor
from bot.wiring import build_sim_system
from broker.calendar import default_calendar
from broker.contracts import OptionContract, Right
from broker.orders import Leg, Order, OrderStatus, Side, order_ref
from broker.sim.book import BookParams
from broker.sim.exchange import SimExchange
from broker.sim.history import DailyHistory
from broker.sim.market import MarketModel, SimMarket
from broker.structures import Engine, Intent, IntentKind, StructureKind
from storage.journal import Journal

EXPIRY = date(2018, 4, 20)
LEGS = (
    Leg(OptionContract("SPX", "SPXW", EXPIRY, 2550, Right.PUT), Side.SELL),
    Leg(OptionContract("SPX", "SPXW", EXPIRY, 2500, Right.PUT), Side.BUY),
    Leg(OptionContract("SPX", "SPXW", EXPIRY, 2850, Right.CALL), Side.SELL),
    Leg(OptionContract("SPX", "SPXW", EXPIRY, 2900, Right.CALL), Side.BUY),
)


def intent(kind: IntentKind, legs: tuple[Leg, ...], qty: int, sid: int | None = None) -> Intent:
    return Intent(
        kind, Engine.CONDOR, StructureKind.IRON_CONDOR, legs, qty, 0.0, "test", structure_id=sid
    )


@pytest.fixture
async def thin_venue(history: DailyHistory, clock: VirtualClock) -> SimExchange:
    """A venue that shows one contract per side: every instant fills at most one unit."""
    model = MarketModel(book=BookParams(spx_size=1, min_scale=1.0))
    venue = SimExchange(SimMarket(history, default_calendar(), model), clock.now, "DUT1", 1e6)
    await venue.connect()
    return venue


def venue_book(positions: list[object]) -> Counter[str]:
    return Counter({p.contract.key: p.quantity for p in positions})  # type: ignore[attr-defined]


def journal_book(journal: Journal) -> Counter[str]:
    held: Counter[str] = Counter()
    for structure in journal.open_structures():
        for leg in structure.legs:
            held[leg.contract.key] += leg.signed_ratio * structure.quantity
    return held


async def test_a_partial_open_books_what_filled_and_a_partial_close_splits_the_structure(
    thin_venue: SimExchange, clock: VirtualClock
) -> None:
    journal = Journal.in_memory()
    executor = Executor(thin_venue, journal, clock, ExecutionConfig())
    opened = await executor.execute(intent(IntentKind.OPEN, LEGS, 10))
    assert 0 < opened.filled < 10  # one unit per instant: the walk ends with a remainder
    assert opened.status is OrderStatus.CANCELLED
    [condor] = journal.open_structures()
    assert condor.quantity == opened.filled
    assert journal_book(journal) == venue_book(await thin_venue.positions())

    reverse = tuple(leg.reversed() for leg in LEGS)
    hasty = Executor(thin_venue, journal, clock, ExecutionConfig(walk_steps=1))  # 2 instants
    closed = await hasty.execute(intent(IntentKind.CLOSE, reverse, condor.quantity, condor.id))
    assert condor.quantity >= 3
    assert 0 < closed.filled < condor.quantity
    [rest] = journal.open_structures()
    assert rest.id == condor.id and rest.quantity == condor.quantity - closed.filled
    [(part, _at, _price, _reason, pnl)] = journal.closed_structures()
    assert part.id != condor.id and part.quantity == closed.filled and part.legs == LEGS
    assert journal_book(journal) == venue_book(await thin_venue.positions())
    # the closed part carries its share of the opening charges plus the closing charges
    open_charges = sum(f.commission for f in journal.fills_for_ref(order_ref(opened.intent_id)))
    close_charges = sum(f.commission for f in journal.fills_for_ref(order_ref(closed.intent_id)))
    gross = -(part.open_price + closed.avg_price) * 100 * closed.filled  # type: ignore[operator]
    share = closed.filled / condor.quantity
    assert pnl == pytest.approx(gross - share * open_charges - close_charges)


async def test_a_restart_books_fills_the_journal_missed_from_the_venue_file(
    tmp_path: Path,
) -> None:
    config = AppConfig.model_validate(
        {"sim": {"start": "2018-03-05", "venue_path": str(tmp_path / "venue.sqlite")}}
    )
    url = f"sqlite:///{tmp_path / 'alvh.sqlite'}"
    journal = Journal(url)
    first = build_sim_system(config, journal, date(2018, 3, 5), pace=0.0)
    await first.engine.start()
    first.clock.advance_to(first.clock.now().replace(hour=10))
    intent_id = journal.record_intent(intent(IntentKind.OPEN, LEGS, 2), first.clock.now())
    order = Order(order_ref(intent_id), LEGS, 2, 100.0)  # marketable: fills at the venue
    journal.record_order(intent_id, order, first.clock.now())
    await first.exchange.place_order(order)
    # the process dies here: no fill reached the journal, the venue file has them all
    assert first.exchange.store is not None
    first.exchange.store.close()
    journal.dispose()

    journal = Journal(url)
    second = build_sim_system(config, journal, date(2018, 3, 5), pace=0.0)
    assert second.clock.now() == first.clock.now()  # resumed at the venue's clock
    await second.engine.start()  # reconciles against the resumed venue
    assert journal.fill_count() == 4
    assert journal.intent_status(intent_id) == "filled"
    assert journal_book(journal) == venue_book(await second.exchange.positions())
    await second.engine.start()  # a second reconcile adds nothing
    assert journal.fill_count() == 4
    await second.engine.stop()
