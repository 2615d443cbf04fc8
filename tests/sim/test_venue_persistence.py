"""The venue keeps its paper account in its own file: a restarted venue is the same account."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

from bot.clock import VirtualClock
from broker.calendar import NY
from broker.contracts import SPX, FutureContract, OptionContract, Right
from broker.orders import Leg, Order, OrderStatus, Side
from broker.sim.exchange import SimExchange
from broker.sim.market import SimMarket
from broker.sim.venue_store import VenueFileError, VenueStore

EXPIRY = date(2018, 4, 20)
PUT = OptionContract("SPX", "SPXW", EXPIRY, 2600, Right.PUT)
FUTURE = FutureContract("VIX", "VX", date(2018, 5, 16))


async def open_venue(market: SimMarket, clock: VirtualClock, path: Path) -> SimExchange:
    venue = SimExchange(market, clock.now, "DUTEST001", 1_000_000.0, store=VenueStore(path))
    await venue.connect()
    return venue


async def test_a_restarted_venue_has_the_same_account_orders_and_executions(
    market: SimMarket, clock: VirtualClock, tmp_path: Path
) -> None:
    path = tmp_path / "venue.sqlite"
    first = await open_venue(market, clock, path)
    await first.place_order(Order("alvh-1", (Leg(PUT, Side.BUY),), 2, 1000.0))
    await first.place_order(Order("alvh-2", (Leg(FUTURE, Side.BUY),), 1, 1000.0))
    await first.place_order(Order("alvh-3", (Leg(PUT, Side.BUY),), 1, 0.05))  # rests
    clock.advance_to(datetime(2018, 3, 5, 11, 7, tzinfo=NY))
    before = (await first.account(), await first.positions(), await first.executions())
    working = await first.open_orders()
    # no disconnect: the process is killed (the OS closes its file and frees the lock);
    # everything the venue answered was already saved
    assert first.store is not None
    first.store.close()
    second = await open_venue(market, clock, path)
    assert second.resumed
    assert second.saved_clock == datetime(2018, 3, 5, 11, 7, tzinfo=NY)
    after = (await second.account(), await second.positions(), await second.executions())
    assert after == before
    assert await second.open_orders() == working
    assert (await second.order_state("alvh-1")).status is OrderStatus.FILLED  # type: ignore[union-attr]
    again = await second.place_order(Order("alvh-1", (Leg(PUT, Side.BUY),), 2, 1000.0))
    assert again.filled == 2 and len(await second.executions()) == len(before[2])
    await second.place_order(Order("alvh-4", (Leg(PUT, Side.SELL),), 1, 0.0))  # receive at least 0
    ids = [f.exec_id for f in await second.executions()]
    assert len(ids) == len(set(ids)) == len(before[2]) + 1


async def test_the_venue_clock_is_saved_on_disconnect(
    market: SimMarket, clock: VirtualClock, tmp_path: Path
) -> None:
    path = tmp_path / "venue.sqlite"
    venue = await open_venue(market, clock, path)
    clock.advance_to(datetime(2018, 3, 5, 10, 3, tzinfo=NY))  # less than the periodic save
    await venue.index_quote(SPX)
    await venue.disconnect()  # closes the file and frees its lock
    assert SimExchange(
        market, clock.now, "DUTEST001", 1.0, store=VenueStore(path)
    ).saved_clock == datetime(2018, 3, 5, 10, 3, tzinfo=NY)


def test_a_file_of_another_account_is_refused_with_its_path(
    market: SimMarket, clock: VirtualClock, tmp_path: Path
) -> None:
    path = tmp_path / "venue.sqlite"
    store = VenueStore(path)
    store.save(SimExchange(market, clock.now, "DUTEST001", 1.0).state, set())
    store.close()
    with pytest.raises(VenueFileError) as refused:
        SimExchange(market, clock.now, "DUOTHER", 1.0, store=VenueStore(path))
    message = str(refused.value)
    assert "DUTEST001" in message and "DUOTHER" in message and str(path) in message


def test_a_file_that_is_not_a_venue_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("this is not a database at all, just some text " * 20)
    with pytest.raises(VenueFileError, match="not a simulated-venue file"):
        VenueStore(path)


def test_a_save_is_one_transaction(market: SimMarket, clock: VirtualClock, tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    store = VenueStore(path, timeout=0.1)
    venue = SimExchange(market, clock.now, "DUTEST001", 1.0, store=store)
    store.save(venue.state, set())
    blocker = sqlite3.connect(path, timeout=0.1)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the file
    venue.state.cash = 5.0
    with pytest.raises(sqlite3.OperationalError):
        store.save(venue.state, set())
    blocker.rollback()
    blocker.close()
    store.close()
    reloaded = VenueStore(path).load()
    assert reloaded is not None and reloaded.cash == 1.0


def test_the_journal_is_not_mistaken_for_a_venue_file(tmp_path: Path) -> None:
    path = tmp_path / "alvh.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE intents (id INTEGER PRIMARY KEY)")
    db.close()
    with pytest.raises(VenueFileError, match="is it the journal"):
        VenueStore(path)
    db = sqlite3.connect(path)
    assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["intents"]


def test_one_running_venue_per_file(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    first = VenueStore(path)
    with pytest.raises(VenueFileError, match="in use by another running simulator"):
        VenueStore(path)
    first.close()
    VenueStore(path).close()  # free again once the first one is closed
