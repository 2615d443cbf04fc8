"""Record intent, then act; reconcile on start: a crash at any point sends nothing twice."""

from __future__ import annotations

from datetime import date

import pytest

from bot.clock import VirtualClock
from bot.config import ExecutionConfig
from bot.executor import Executor
from bot.reconcile import reconcile
from broker.contracts import OptionContract, Right
from broker.orders import Leg, Order, OrderStatus, Side, order_ref
from broker.sim.exchange import SimExchange
from broker.structures import Engine, Intent, IntentKind, StructureKind
from storage.journal import Journal

EXPIRY = date(2018, 4, 20)


def spxw(strike: float, right: Right) -> OptionContract:
    return OptionContract("SPX", "SPXW", EXPIRY, strike, right)


LEGS = (
    Leg(spxw(2550, Right.PUT), Side.SELL),
    Leg(spxw(2500, Right.PUT), Side.BUY),
    Leg(spxw(2850, Right.CALL), Side.SELL),
    Leg(spxw(2900, Right.CALL), Side.BUY),
)


def condor_intent(quantity: int = 2) -> Intent:
    return Intent(
        IntentKind.OPEN,
        Engine.CONDOR,
        StructureKind.IRON_CONDOR,
        LEGS,
        quantity,
        -10.0,
        "test condor",
    )


@pytest.fixture
def journal() -> Journal:
    return Journal.in_memory()


@pytest.fixture
def executor(exchange: SimExchange, journal: Journal, clock: VirtualClock) -> Executor:
    return Executor(exchange, journal, clock, ExecutionConfig())


async def mid_of(exchange: SimExchange) -> float:
    quotes = await exchange.option_quotes([leg.contract for leg in LEGS])  # type: ignore[misc]
    return sum(leg.signed_ratio * q.quote.mid for leg, q in zip(LEGS, quotes, strict=True))


async def test_executor_opens_a_condor_with_four_fills_carrying_the_intent_reference(
    executor: Executor, journal: Journal
) -> None:
    outcome = await executor.execute(condor_intent())
    assert outcome.status is OrderStatus.FILLED and outcome.filled == 2
    ref = order_ref(outcome.intent_id)
    fills = journal.fills_for_ref(ref)
    assert len(fills) == 4 and {f.order_ref for f in fills} == {ref}
    [structure] = journal.open_structures()
    assert structure.legs == LEGS and structure.quantity == 2
    assert structure.open_price == pytest.approx(outcome.avg_price)
    assert journal.intent_status(outcome.intent_id) == "filled"


async def test_closing_books_realized_pnl_with_commissions(
    executor: Executor, journal: Journal, clock: VirtualClock
) -> None:
    opened = await executor.execute(condor_intent(1))
    assert opened.structure_id is not None
    clock.advance_to(clock.now().replace(day=12))
    closing = Intent(
        IntentKind.CLOSE,
        Engine.CONDOR,
        StructureKind.IRON_CONDOR,
        tuple(leg.reversed() for leg in LEGS),
        1,
        5.0,
        "test close",
        structure_id=opened.structure_id,
    )
    closed = await executor.execute(closing)
    assert closed.status is OrderStatus.FILLED
    assert journal.open_structures() == []
    [(structure, _at, close_price, _reason, pnl)] = journal.closed_structures()
    commissions = 8 * 1.25  # SPX options: 0.65 commission + 0.60 exchange fees
    assert pnl == pytest.approx(-(structure.open_price + close_price) * 100 - commissions)


async def test_intent_journaled_but_never_sent_is_marked_failed_and_not_resent(
    exchange: SimExchange, journal: Journal, executor: Executor, clock: VirtualClock
) -> None:
    intent_id = journal.record_intent(condor_intent(), clock.now())  # then the process died
    report = await reconcile(exchange, journal, executor, clock)
    assert report.intents_failed == [intent_id]
    assert journal.intent_status(intent_id) == "failed"
    assert await exchange.executions() == [] and await exchange.open_orders() == []


async def test_fills_of_an_order_sent_before_a_crash_are_booked_once(
    exchange: SimExchange, journal: Journal, executor: Executor, clock: VirtualClock
) -> None:
    intent_id = journal.record_intent(condor_intent(), clock.now())
    order = Order(order_ref(intent_id), LEGS, 2, await mid_of(exchange) + 2.0)  # marketable
    journal.record_order(intent_id, order, clock.now())
    await exchange.place_order(order)  # filled at the venue; the process died before booking
    first = await reconcile(exchange, journal, executor, clock)
    second = await reconcile(exchange, journal, executor, clock)
    assert first.fills_added == 4 and second.fills_added == 0
    assert journal.fill_count() == 4
    assert len(journal.open_structures()) == 1
    assert journal.intent_status(intent_id) == "filled"
    assert len(await exchange.executions()) == 4  # nothing was sent again


async def test_working_order_left_by_a_crash_is_cancelled_not_duplicated(
    exchange: SimExchange, journal: Journal, executor: Executor, clock: VirtualClock
) -> None:
    intent_id = journal.record_intent(condor_intent(), clock.now())
    order = Order(order_ref(intent_id), LEGS, 2, await mid_of(exchange) - 2.0)
    journal.record_order(intent_id, order, clock.now())
    await exchange.place_order(order)
    await reconcile(exchange, journal, executor, clock)
    assert journal.intent_status(intent_id) == "cancelled"
    assert await exchange.open_orders() == []
    assert journal.open_structures() == []


async def test_structure_the_venue_no_longer_holds_is_closed_with_a_reason(
    exchange: SimExchange, journal: Journal, executor: Executor, clock: VirtualClock
) -> None:
    await executor.execute(condor_intent())
    other_venue = SimExchange(exchange.market, clock.now, "DUTEST001", 1_000_000.0)
    await other_venue.connect()
    report = await reconcile(
        other_venue, journal, Executor(other_venue, journal, clock, ExecutionConfig()), clock
    )
    assert len(report.structures_closed) == 1
    [(_s, _at, _price, reason, _pnl)] = journal.closed_structures()
    assert "no longer held at the venue" in reason


async def test_positions_the_bot_did_not_open_are_reported_untracked(
    exchange: SimExchange, journal: Journal, executor: Executor, clock: VirtualClock
) -> None:
    hand_trade = Order("manual-1", LEGS[:2], 1, 100.0)
    await exchange.place_order(hand_trade)
    report = await reconcile(exchange, journal, executor, clock)
    assert sorted(report.untracked) == sorted(leg.contract.key for leg in LEGS[:2])
    assert journal.fill_count() == 0  # not our order: not journaled as ours


async def test_an_order_that_fills_while_resting_is_journaled_filled(
    exchange: SimExchange, journal: Journal, clock: VirtualClock
) -> None:
    class FillsOnPoll:
        """The venue fills the resting order between two walk steps (the market came to it)."""

        def __init__(self, venue: SimExchange) -> None:
            self.venue = venue

        def __getattr__(self, name: str) -> object:
            return getattr(self.venue, name)

        async def place_order(self, order: Order) -> object:
            resting = Order(order.ref, order.legs, order.quantity, order.limit_price - 1.0)
            return await self.venue.place_order(resting)

        async def order_state(self, ref: str) -> object:
            working = self.venue.state.orders[ref]
            await self.venue.modify_order(ref, working.limit_price + 5.0)
            return await self.venue.order_state(ref)

    executor = Executor(FillsOnPoll(exchange), journal, clock, ExecutionConfig())  # type: ignore[arg-type]
    intent = condor_intent(1)
    mid = await mid_of(exchange)
    # The first limit asks 1.00 more credit than mid, so it rests and the walk has to poll.
    outcome = await executor.execute(
        Intent(intent.kind, intent.engine, intent.structure_kind, LEGS, 1, mid, "t")
    )
    assert outcome.status is OrderStatus.FILLED
    state = journal.order_state(order_ref(outcome.intent_id))
    assert state is not None and state.status is OrderStatus.FILLED
