"""The venue holds a week of history in memory and reads anything older from its file: memory
stays bounded over a long run, and every answer (executions, old orders, restarts) stays the
same."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from bot.clock import VirtualClock
from broker.calendar import NY, default_calendar
from broker.contracts import FutureContract
from broker.orders import Fill, Leg, Order, OrderStatus, Side
from broker.sim.exchange import SimExchange
from broker.sim.market import SimMarket
from broker.sim.venue_state import HISTORY_KEPT
from broker.sim.venue_store import VenueStore

FUTURE = FutureContract("VIX", "VX", date(2018, 5, 16))
DAYS = default_calendar().trading_days(date(2018, 3, 5), date(2018, 4, 13))  # six weeks


def at_ten(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=NY)


async def trade_every_day(venue: SimExchange, clock: VirtualClock, days: list[date]) -> None:
    """Buy one future at 10:00 and sell it at 10:01 each day (two fills a day, one order each)."""
    for day in days:
        clock.advance_to(at_ten(day))
        buy = await venue.place_order(Order(f"b-{day}", (Leg(FUTURE, Side.BUY),), 1, 1000.0))
        clock.advance_to(at_ten(day).replace(minute=1))
        sell = await venue.place_order(Order(f"s-{day}", (Leg(FUTURE, Side.SELL),), 1, 0.0))
        assert buy.status is sell.status is OrderStatus.FILLED


async def file_venue(market: SimMarket, clock: VirtualClock, path: Path) -> SimExchange:
    venue = SimExchange(market, clock.now, "DUTEST001", 1_000_000.0, store=VenueStore(path))
    await venue.connect()
    return venue


def days_held(fills: list[Fill]) -> set[date]:
    return {f.time.astimezone(NY).date() for f in fills}


async def test_a_venue_holds_only_the_last_week_of_history_in_memory(
    exchange: SimExchange, clock: VirtualClock
) -> None:
    await trade_every_day(exchange, clock, DAYS)
    state = exchange.state
    assert state.execution_count == 2 * len(DAYS) == 58
    cutoff = clock.now() - HISTORY_KEPT
    oldest_kept = min(f.time for f in state.executions)
    assert cutoff - oldest_kept < HISTORY_KEPT / 7  # forgotten once a day, a day late at most
    assert len(state.executions) <= 2 * 7 and len(state.orders) <= 2 * 7
    assert all(w.last_active >= oldest_kept for w in state.orders.values())
    ids = [f.exec_id for f in state.executions]
    assert ids[-1].endswith("-000058") and len(set(ids)) == len(ids)


async def test_without_a_file_the_venue_answers_with_the_window_only(
    exchange: SimExchange, clock: VirtualClock
) -> None:
    await trade_every_day(exchange, clock, DAYS)
    everything = await exchange.executions()
    assert days_held(everything) == days_held(exchange.state.executions)
    assert DAYS[0] not in days_held(everything) and DAYS[-1] in days_held(everything)
    assert await exchange.order_state(f"b-{DAYS[0]}") is None


async def test_with_a_file_every_execution_and_order_is_still_answered(
    market: SimMarket, clock: VirtualClock, tmp_path: Path
) -> None:
    venue = await file_venue(market, clock, tmp_path / "venue.sqlite")
    await trade_every_day(venue, clock, DAYS)
    assert len(venue.state.executions) < 58  # memory holds the window only
    everything = await venue.executions()
    assert [int(f.exec_id.rsplit("-", 1)[1]) for f in everything] == list(range(1, 59))
    since_week_two = await venue.executions(at_ten(DAYS[5]))
    assert since_week_two == everything[10:]
    last_day = await venue.executions(at_ten(DAYS[-1]))
    assert last_day == everything[-2:]
    old = await venue.order_state(f"b-{DAYS[0]}")
    assert old is not None and old.status is OrderStatus.FILLED and old.filled == 1
    cancelled = await venue.cancel_order(f"s-{DAYS[1]}")  # long filled: nothing changes
    assert cancelled.status is OrderStatus.FILLED
    again = await venue.place_order(Order(f"b-{DAYS[0]}", (Leg(FUTURE, Side.BUY),), 1, 1000.0))
    assert again == old and len(await venue.executions()) == 58  # never sent twice


async def test_a_restarted_venue_loads_the_window_and_reads_the_rest_from_its_file(
    market: SimMarket, clock: VirtualClock, tmp_path: Path
) -> None:
    path = tmp_path / "venue.sqlite"
    first = await file_venue(market, clock, path)
    await trade_every_day(first, clock, DAYS[:-1])
    before = await first.executions()
    assert first.store is not None
    first.store.close()  # killed: the OS frees the file and its lock
    second = await file_venue(market, clock, path)
    assert second.resumed and len(second.state.executions) < len(before)
    assert await second.executions() == before
    assert await second.executions(before[-2].time) == before[-2:]  # the last day's two
    await trade_every_day(second, clock, DAYS[-1:])
    ids = [f.exec_id for f in await second.executions()]
    assert len(ids) == len(set(ids)) == 58


async def test_a_cursor_of_executions_ever_made_survives_forgetting(
    exchange: SimExchange, clock: VirtualClock
) -> None:
    await trade_every_day(exchange, clock, DAYS[:26])
    cursor = exchange.state.execution_count
    await trade_every_day(exchange, clock, DAYS[26:])  # three days: within the window
    assert exchange.state.executions[0].exec_id[-6:] > "000001"  # some were forgotten
    new = exchange.state.executions_after(cursor)
    assert [f.exec_id[-6:] for f in new] == [f"{n:06d}" for n in range(53, 59)]
    assert exchange.state.executions_after(exchange.state.execution_count) == []
