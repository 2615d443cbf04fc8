"""A roll fills as one combo: the old condor closes, the new one opens, a roll row links them,
and the old close price plus the new open price is the roll's net price (legs netted or not)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, timedelta

from bot.clock import VirtualClock
from bot.config import ExecutionConfig
from bot.executor import Executor
from broker.contracts import OptionContract, Right
from broker.orders import Leg, Side
from broker.sim.exchange import SimExchange
from broker.structures import Engine, Intent, IntentKind, StructureKind
from storage.journal import Journal

EXPIRY = date(2018, 4, 20)


def spxw(strike: float, right: Right) -> OptionContract:
    return OptionContract("SPX", "SPXW", EXPIRY, strike, right)


PUTS = (Leg(spxw(2550, Right.PUT), Side.SELL), Leg(spxw(2500, Right.PUT), Side.BUY))
CALLS = (Leg(spxw(2850, Right.CALL), Side.SELL), Leg(spxw(2900, Right.CALL), Side.BUY))
# the new put vertical sells the old wing (2500) again: netted, the combo sells 2 x 2500
NEW_PUTS = (Leg(spxw(2500, Right.PUT), Side.SELL), Leg(spxw(2450, Right.PUT), Side.BUY))
ROLL_LEGS = (
    Leg(spxw(2550, Right.PUT), Side.BUY),
    Leg(spxw(2500, Right.PUT), Side.SELL, 2),
    Leg(spxw(2450, Right.PUT), Side.BUY),
)
FAR = 1000.0  # a limit far through the market fills at the natural price at once


def book(journal: Journal) -> Counter[str]:
    held: Counter[str] = Counter()
    for s in journal.open_structures():
        for leg in s.legs:
            held[leg.contract.key] += leg.signed_ratio * s.quantity
    return +held


async def test_a_netted_roll_books_old_close_plus_new_open_equal_to_its_net_price(
    exchange: SimExchange, clock: VirtualClock
) -> None:
    journal = Journal.in_memory()
    executor = Executor(exchange, journal, clock, ExecutionConfig())
    opened = await executor.execute(
        Intent(
            IntentKind.OPEN, Engine.CONDOR, StructureKind.IRON_CONDOR, PUTS + CALLS, 2, -FAR, "open"
        )
    )
    assert opened.structure_id is not None and opened.filled == 2
    clock.advance_to(clock.now() + timedelta(hours=1))
    roll = Intent(
        IntentKind.ROLL,
        Engine.CONDOR,
        StructureKind.IRON_CONDOR,
        ROLL_LEGS,
        2,
        FAR,
        "roll the put side",
        structure_id=opened.structure_id,
        result_legs=CALLS + NEW_PUTS,
        carry_price=-3.0,
    )
    outcome = await executor.execute(roll)
    assert outcome.filled == 2 and outcome.avg_price is not None
    new = journal.structure(outcome.structure_id or -1)
    assert new is not None and new.legs == CALLS + NEW_PUTS and new.quantity == 2
    (row,) = journal.rolls_between(clock.now() - timedelta(days=1), clock.now() + timedelta(1))
    assert row.new_structure_id == new.id and math.isclose(row.net_price, outcome.avg_price)
    (closed,) = [s for s in journal.closed_structures() if s[0].id == row.old_structure_id]
    fills = journal.fills_for_ref(f"alvh-{outcome.intent_id}")
    avg = {f.contract.key: f.price for f in fills}
    # the old put vertical bought back: +2550 put, -2500 put (one of the two sold)
    expected_close = avg[spxw(2550, Right.PUT).key] - avg[spxw(2500, Right.PUT).key] + 3.0
    assert math.isclose(closed[2], expected_close, abs_tol=1e-9)
    assert math.isclose(closed[2] + new.open_price, outcome.avg_price, abs_tol=1e-9)
    venue = Counter({p.contract.key: p.quantity for p in await exchange.positions()})
    assert book(journal) == +venue
