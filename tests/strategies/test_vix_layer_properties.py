"""Invariants of the VIX layer over random ratios, chains, books and signals.

Whatever the market and the book, no intent of the rebalance or the rolls job may leave the
book net short calls of any VIX expiry or short a future (`strategies.risk`), and every intent
is a positive quantity at a finite price that never closes more than a structure holds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from vix_snapshots import (
    APR,
    CALL_EXPIRY,
    JUN,
    MAR,
    NOW,
    PARAMS,
    backspread,
    book,
    calls,
    condors,
    rung,
    signals,
    vix_chain,
    vix_snapshot,
)

from broker.calendar import NY
from broker.contracts import OptionContract, Right
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies.risk import naked_short_problem
from strategies.vix_layer import decide_hedge, decide_vix_rolls

SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
THURSDAY = datetime(2024, 3, 7, 10, 15, tzinfo=NY)
HELD_EXPIRIES = (date(2024, 4, 3), APR, CALL_EXPIRY, JUN)
KINDS = ("rung", "block", "addon", "backspread")


@st.composite
def held_structure(draw: st.DrawFn, structure_id: int) -> Structure:
    kind = draw(st.sampled_from(KINDS))
    quantity = draw(st.integers(1, 40))
    if kind == "rung":
        return rung(structure_id, draw(st.sampled_from((MAR, APR, CALL_EXPIRY, JUN))), quantity)
    expiry = draw(st.sampled_from(HELD_EXPIRIES))
    strike = float(draw(st.integers(12, 40)))
    if kind == "backspread":
        long = strike + draw(st.integers(1, 10))
        ratio = draw(st.integers(1, 4))
        return backspread(structure_id, strike, long, ratio, quantity, expiry)
    structure_kind = StructureKind.ADDON_CALLS if kind == "addon" else StructureKind.CALL_BLOCK
    opened = NOW - timedelta(days=draw(st.integers(0, 40)))
    return calls(structure_id, strike, quantity, expiry, kind=structure_kind, opened_at=opened)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[object, ...]:
    count = draw(st.integers(0, 6))
    held = tuple(draw(held_structure(100 + i)) for i in range(count))
    strikes = draw(st.sets(st.integers(10, 60), min_size=1, max_size=30))
    chain = vix_chain(
        CALL_EXPIRY,
        forward=draw(st.floats(11.0, 40.0)),
        vol=draw(st.floats(0.3, 1.6)),
        strikes=sorted(float(k) for k in strikes),
    )
    episode = draw(st.sampled_from(("", "low", "high")))
    sig = signals(
        draw(st.floats(5.0, 95.0)),
        episode,
        NOW.date() - timedelta(days=draw(st.integers(0, 10))),
        divergence=draw(st.booleans()),
        crossover=draw(st.sampled_from((-1, 0, 1))),
    )
    ratio = draw(st.integers(1, 4))
    override = draw(st.none() | st.integers(1, 4))
    condor_units = draw(st.integers(0, 6))
    at = draw(st.sampled_from((NOW, THURSDAY)))
    return held, chain, sig, ratio, override, condor_units, at


def net_calls_by_expiry(structures: list[Structure]) -> dict[date, int]:
    net: dict[date, int] = defaultdict(int)
    for s in structures:
        for leg in s.legs:
            c = leg.contract
            if isinstance(c, OptionContract) and c.symbol == "VIX" and c.right is Right.CALL:
                net[c.expiry] += leg.signed_ratio * s.quantity
    return net


def as_structure(intent: Intent, structure_id: int) -> Structure:
    """Return the intent's fill as a pseudo-structure, so the book can be summed after it."""
    return Structure(
        id=structure_id,
        engine=Engine.VIX,
        kind=intent.structure_kind,
        legs=intent.legs,
        quantity=intent.quantity,
        open_price=intent.limit_price,
        opened_at=NOW,
    )


@SETTINGS
@given(scenario=scenarios())
def test_the_layer_is_never_net_short_calls_nor_short_a_future(
    scenario: tuple[object, ...],
) -> None:
    held, chain, sig, ratio, override, condor_units, at = scenario
    assert isinstance(held, tuple) and isinstance(at, datetime)
    structures = (*(condors(condor_units) if condor_units else ()), *held)
    state = book(structures, ratio=ratio, ratio_override=override, sig=sig)  # type: ignore[arg-type]
    snapshot = vix_snapshot(structures, chains={CALL_EXPIRY: chain}, at=at)  # type: ignore[dict-item]
    by_id = {s.id: s for s in structures}
    for decide in (decide_hedge, decide_vix_rolls):
        decision = decide(snapshot, state, PARAMS, at)
        book_now = list(structures)
        for n, intent in enumerate(decision.intents):
            assert naked_short_problem(state.structures, intent) is None, intent.reason
            assert naked_short_problem(book_now, intent) is None, intent.reason
            assert intent.quantity >= 1 and math.isfinite(intent.limit_price)
            assert intent.engine is Engine.VIX
            if intent.kind is not IntentKind.OPEN:
                assert intent.structure_id is not None
                assert intent.quantity <= by_id[intent.structure_id].quantity
            if intent.kind is IntentKind.ROLL:
                assert intent.carry_price == 0.0 and intent.result_legs
            built = intent.result_legs if intent.kind is IntentKind.ROLL else intent.legs
            if intent.kind is not IntentKind.CLOSE:
                unit = replace(as_structure(intent, -1), legs=built, quantity=1)
                own = net_calls_by_expiry([unit])
                assert all(net >= 0 for net in own.values()), intent.reason
            book_now.append(as_structure(intent, -1 - n))
            event(f"{intent.kind.value} {intent.structure_kind.value}")
        after = net_calls_by_expiry([s for s in book_now if s.engine is Engine.VIX])
        assert all(net >= 0 for net in after.values())
