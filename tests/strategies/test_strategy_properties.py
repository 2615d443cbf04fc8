"""Properties of condor entry and the risk gate over random realistic chains and books."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from snapshots import (
    NOW,
    TODAY,
    bs_chain,
    condor,
    condor_legs,
    margin,
    option,
    snapshot,
    state,
    vix_future,
)

from broker.account import MarginImpact
from broker.contracts import FutureContract, OptionContract, Right
from broker.market import OptionChain
from broker.orders import Leg, Side
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies.condor_entry import propose_condor
from strategies.decision import Decision
from strategies.params import CondorParams, StrategyParams
from strategies.risk import check_intent, naked_short_problem

PARAMS = CondorParams()
SETTINGS = settings(
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def chains(draw: st.DrawFn) -> tuple[float, date, OptionChain]:
    spot = draw(st.floats(1000.0, 5000.0))
    vol = draw(st.floats(0.10, 0.60))
    dte = draw(st.integers(40, 60))
    step = draw(st.sampled_from([5.0, 10.0, 25.0]))
    nan_frac = draw(st.sampled_from([0.0, 0.05, 0.2, 0.4]))
    zero_ask_frac = draw(st.sampled_from([0.0, 0.05, 0.2, 0.4]))
    crossed_frac = draw(st.sampled_from([0.0, 0.02, 0.1]))
    window = draw(st.sampled_from([0.25, 0.5]))  # the bot's default strike window, or wider
    seed = draw(st.integers(0, 2**32 - 1))
    expiry = TODAY + timedelta(days=dte)
    chain = bs_chain(
        spot,
        vol,
        expiry,
        dte,
        step,
        rng=np.random.default_rng(seed),
        nan_frac=nan_frac,
        zero_ask_frac=zero_ask_frac,
        crossed_frac=crossed_frac,
        window=window,
    )
    return spot, expiry, chain


SKIP_REASONS = (
    "no usable quotes near |delta| 0.16",
    "no usable wing strike near |delta| 0.05",
    "short put ",
    "one condor risks $",
    "the condor would not collect a credit",
)
NLVS = st.floats(5.5, 7.7).map(lambda x: 10.0**x)  # $316,000 to $50,000,000, log-uniform


def proposed(
    chain: OptionChain, expiry: date, structures: Iterable[Structure], nlv: float
) -> Decision:
    listed = [TODAY + timedelta(days=7), expiry, TODAY + timedelta(days=91)]
    snap = snapshot({expiry: chain}, listed)
    return propose_condor(snap, state(structures, nlv), PARAMS, NOW)


def strikes(intent: Intent) -> tuple[float, float, float, float]:
    sp, lp, sc, lc = (leg.contract.strike for leg in intent.legs)  # type: ignore[union-attr]
    return sp, lp, sc, lc


@SETTINGS
@given(chains(), NLVS)
def test_any_proposed_condor_is_well_formed_and_within_risk(
    drawn: tuple[float, date, OptionChain], nlv: float
) -> None:
    _, expiry, chain = drawn
    decision = proposed(chain, expiry, (), nlv)
    assert len(decision.intents) + len(decision.skips) == 1
    if not decision.intents:
        assert decision.skips[0].reason.startswith(SKIP_REASONS)
        event(f"skip: {' '.join(decision.skips[0].reason.split(' ')[:3])}")
        return
    event("intent")
    intent = decision.intents[0]
    by_key = {q.contract.key: q for q in chain.quotes}
    quotes = [by_key[leg.contract.key] for leg in intent.legs]

    # (d) no quote with a problem is used, and the legs are of the chosen expiry
    assert [q.problem() for q in quotes] == [None] * 4
    assert {leg.contract.expiry for leg in intent.legs} == {expiry}

    # (a) wings strictly further out than the shorts, shorts not crossed
    sp, lp, sc, lc = strikes(intent)
    assert lp < sp < sc < lc
    assert [(leg.contract.right, leg.side) for leg in intent.legs] == [
        (Right.PUT, Side.SELL),
        (Right.PUT, Side.BUY),
        (Right.CALL, Side.SELL),
        (Right.CALL, Side.BUY),
    ]

    # (b) never naked on an empty book
    assert naked_short_problem((), intent) is None

    # (c) max loss within 2 % of NLV, and the largest such quantity
    credit = -intent.limit_price
    mids = [q.quote.mid for q in quotes]
    assert abs(credit - (mids[0] - mids[1] + mids[2] - mids[3])) < 1e-9
    assert credit > 0
    width = max(sp - lp, lc - sc)
    max_loss = (width - credit) * 100
    assert max_loss > 0
    assert intent.quantity >= 1
    budget = PARAMS.max_loss_pct * nlv
    assert max_loss * intent.quantity <= budget + 1e-6
    assert max_loss * (intent.quantity + 1) > budget - 1e-6

    # the shorts and wings are the usable quotes nearest the target deltas
    usable = [q for q in chain.quotes if q.problem() is None]

    def best(right: Right, target: float, beyond: float | None = None) -> float:
        side = [q for q in usable if q.contract.right is right]
        if beyond is not None:
            side = [
                q
                for q in side
                if (
                    q.contract.strike < beyond if right is Right.PUT else q.contract.strike > beyond
                )
            ]
        return min(abs(abs(q.greeks.delta) - target) for q in side)

    assert abs(abs(quotes[0].greeks.delta) - 0.16) <= best(Right.PUT, 0.16) + 1e-9
    assert abs(abs(quotes[2].greeks.delta) - 0.16) <= best(Right.CALL, 0.16) + 1e-9
    assert abs(abs(quotes[1].greeks.delta) - 0.05) <= best(Right.PUT, 0.05, sp) + 1e-9
    assert abs(abs(quotes[3].greeks.delta) - 0.05) <= best(Right.CALL, 0.05, sc) + 1e-9


@settings(deadline=None, max_examples=30)
@given(st.floats(1000.0, 5000.0), st.floats(0.10, 0.60), st.integers(40, 60), st.integers(0, 1000))
def test_clean_realistic_chain_on_a_large_account_always_proposes(
    spot: float, vol: float, dte: int, seed: int
) -> None:
    # Guards the property above against passing vacuously: without holes, and with strikes
    # out to the 0.05 wings even at 60 % vol, a condor is always opened.
    expiry = TODAY + timedelta(days=dte)
    chain = bs_chain(spot, vol, expiry, dte, 5.0, rng=np.random.default_rng(seed), window=0.6)
    decision = proposed(chain, expiry, (), 5_000_000.0)
    assert decision.skips == ()
    assert len(decision.intents) == 1


# --------------------------------------------------------------------------------------------
# The risk gate never lets the book go net short
# --------------------------------------------------------------------------------------------

EXPIRIES = (date(2024, 4, 18), date(2024, 5, 16))
STRIKES = (4600.0, 4700.0, 4800.0, 5200.0, 5300.0, 5400.0)
FUTURES = (vix_future(date(2024, 4, 17)), vix_future(date(2024, 5, 22)))


def net_short_series(structures: Iterable[Structure], intent: Intent) -> list[str]:
    """Independent oracle: series (symbol, expiry, right) or futures left net short."""
    options: dict[tuple[str, date, Right], int] = defaultdict(int)
    futures: dict[str, int] = defaultdict(int)
    held = [(leg, s.quantity) for s in structures for leg in s.legs]
    for leg, quantity in [*held, *((leg, intent.quantity) for leg in intent.legs)]:
        count = (1 if leg.side is Side.BUY else -1) * leg.ratio * quantity
        contract = leg.contract
        if isinstance(contract, OptionContract):
            options[(contract.symbol, contract.expiry, contract.right)] += count
        else:
            assert isinstance(contract, FutureContract)
            futures[contract.key] += count
    short = [f"{k}" for k, n in options.items() if n < 0]
    return short + [k for k, n in futures.items() if n < 0]


@st.composite
def condor_structures(draw: st.DrawFn, structure_id: int) -> Structure:
    picked = sorted(draw(st.sets(st.sampled_from(STRIKES), min_size=4, max_size=4)))
    lp, sp, sc, lc = picked
    return condor(
        structure_id,
        quantity=draw(st.integers(1, 5)),
        strikes=(lp, sp, sc, lc),
        expiry=draw(st.sampled_from(EXPIRIES)),
        opened_at=NOW - timedelta(days=draw(st.integers(1, 30))),
    )


LEGS = st.builds(
    Leg,
    st.one_of(
        st.builds(
            option,
            st.sampled_from(STRIKES),
            st.sampled_from([Right.PUT, Right.CALL]),
            st.sampled_from(EXPIRIES),
        ),
        st.sampled_from(FUTURES),
    ),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 2),
)


@st.composite
def other_structures(draw: st.DrawFn, structure_id: int) -> Structure:
    return Structure(
        structure_id,
        Engine.VIX,
        StructureKind.VERTICAL,
        tuple(draw(st.lists(LEGS, min_size=1, max_size=3))),
        draw(st.integers(1, 5)),
        open_price=1.0,
        opened_at=NOW - timedelta(days=2),
    )


@st.composite
def books(draw: st.DrawFn, most_condors: int = 4, most_others: int = 2) -> list[Structure]:
    n_condors = draw(st.integers(0, most_condors))
    n_others = draw(st.integers(0, most_others))
    out = [draw(condor_structures(i)) for i in range(1, n_condors + 1)]
    return out + [draw(other_structures(100 + i)) for i in range(n_others)]


@st.composite
def intents(draw: st.DrawFn, book: list[Structure]) -> Intent:
    kind = draw(st.sampled_from(["condor", "close", "legs"] if book else ["condor", "legs"]))
    quantity = draw(st.integers(1, 60))
    if kind == "close":
        target = draw(st.sampled_from(book))
        return Intent(
            IntentKind.CLOSE,
            target.engine,
            target.kind,
            tuple(leg.reversed() for leg in target.legs),
            draw(st.integers(1, target.quantity + 2)),
            1.0,
            "close",
            target.id,
        )
    if kind == "condor":
        picked = sorted(draw(st.sets(st.sampled_from(STRIKES), min_size=4, max_size=4)))
        legs = condor_legs(tuple(picked), draw(st.sampled_from(EXPIRIES)))  # type: ignore[arg-type]
        return Intent(
            IntentKind.OPEN, Engine.CONDOR, StructureKind.IRON_CONDOR, legs, quantity, -2.0, "o"
        )
    legs = tuple(draw(st.lists(LEGS, min_size=1, max_size=4)))
    open_kind = draw(st.sampled_from([IntentKind.OPEN, IntentKind.CLOSE]))
    return Intent(open_kind, Engine.VIX, StructureKind.VERTICAL, legs, quantity, 1.0, "legs")


MARGINS = st.one_of(st.none(), st.floats(0.0, 1_000_000.0).map(margin), st.just(margin(300_000.0)))


def assert_gate_is_sound(
    book: list[Structure], intent: Intent, impact: MarginImpact | None
) -> str | None:
    params = StrategyParams()
    problem = check_intent(intent, state(book), params, impact)
    short = net_short_series(book, intent)
    if problem is None:
        assert short == []
        assert intent.quantity >= 1
        assert max(leg.ratio for leg in intent.legs) * intent.quantity <= 50
        if intent.kind is IntentKind.OPEN:
            assert impact is not None
            assert impact.excess_liquidity_after >= 0.30 * impact.net_liquidation
            if intent.structure_kind is StructureKind.IRON_CONDOR:
                assert len(state(book).open_of(Engine.CONDOR)) < params.condor.max_open
    if short:
        assert problem is not None
    return problem


@SETTINGS
@given(st.data())
def test_risk_gate_never_leaves_the_book_net_short(data: st.DataObject) -> None:
    book = data.draw(books())
    intent = data.draw(intents(book))
    impact = data.draw(MARGINS)
    problem = assert_gate_is_sound(book, intent, impact)
    event("approved" if problem is None else "refused")


@SETTINGS
@given(st.data(), chains(), st.floats(6.0, 7.0).map(lambda x: 10.0**x))
def test_proposed_condor_approved_by_the_gate_keeps_the_book_covered(
    data: st.DataObject, drawn: tuple[float, date, OptionChain], nlv: float
) -> None:
    _, expiry, chain = drawn
    book = data.draw(books(most_condors=3, most_others=1))
    decision = proposed(chain, expiry, book, nlv)
    for skipped in decision.skips:
        event(f"skip: {' '.join(skipped.reason.split(' ')[:3])}")
    for intent in decision.intents:
        impact = data.draw(st.one_of(MARGINS, st.floats(300_000.0, 1_000_000.0).map(margin)))
        problem = assert_gate_is_sound(book, intent, impact)
        event("approved" if problem is None else "refused")
