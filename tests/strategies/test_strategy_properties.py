"""Properties of condor entry, condor defence and the risk gate over random chains and books."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from snapshots import (
    NOW,
    TODAY,
    account,
    black76_vix_chain,
    bs_chain,
    condor,
    condor_legs,
    future_quote,
    index_quote,
    macro_event,
    margin,
    option,
    snapshot,
    state,
    vix_call,
    vix_future,
)

from broker.account import MarginImpact
from broker.contracts import FutureContract, OptionContract, Right
from broker.market import FutureQuote, LegQuote, MarketSnapshot, OptionChain
from broker.orders import Leg, Side
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies.condor_entry import propose_condor
from strategies.condor_roll import expiries_to_roll
from strategies.decide import decide_entry, decide_hedge, decide_management, decide_rolls
from strategies.decision import Decision, PortfolioState
from strategies.hedge_state import HedgeState, Signals
from strategies.params import CondorParams, StrategyParams
from strategies.risk import check_intent, naked_short_problem
from strategies.signals.macro_calendar import MacroEvent

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


# --------------------------------------------------------------------------------------------
# Decisions and the risk gate over random books and markets, cycle after cycle
#
# A random book (iron condors at random strikes and expiries, VIX call blocks, 1:N backspreads
# with N in 1..4, long futures rungs) meets random markets for a few weekly cycles. Every decision
# function in DECIDERS runs on each market; every intent goes through `check_intent` against the
# book as it is then; the accepted ones are applied. The book must never be net short VIX calls,
# hold a naked short option or a short future, or pass a limit. Scenarios come from a numpy
# Generator seeded by hypothesis, so that a guard test can replay many seeds and check that the
# interesting paths (rolls, closes, opens, refusals) are taken.
# --------------------------------------------------------------------------------------------

Decider = Callable[[MarketSnapshot, PortfolioState, StrategyParams, datetime], Decision]
DECIDERS: tuple[tuple[str, Decider], ...] = (
    ("entry", decide_entry),  # exits, the roll, then a new condor
    ("management", decide_management),  # exits and the roll
    ("hedge", decide_hedge),  # the VIX layer's rebalance
    ("rolls", decide_rolls),  # the VIX layer's rolls
)
STRATEGY = StrategyParams()
VIX_EXPIRIES = (  # the monthly VIX expiries (Wednesdays) listed over the cycles
    date(2024, 3, 20),
    date(2024, 4, 17),
    date(2024, 5, 22),
    date(2024, 6, 18),
    date(2024, 7, 17),
    date(2024, 8, 21),
)
CYCLES = 3


def on_grid(value: float, step: float) -> float:
    return float(round(value / step) * step)


def random_condors(rng: np.random.Generator, spot: float, step: float) -> list[Structure]:
    out = []
    for structure_id in range(1, int(rng.integers(0, STRATEGY.condor.max_open + 1)) + 1):
        short_put = on_grid(spot * (1 - rng.uniform(0.005, 0.10)), step)
        short_call = on_grid(spot * (1 + rng.uniform(0.005, 0.08)), step)
        strikes = (
            short_put - step * int(rng.integers(1, 9)),
            short_put,
            short_call,
            short_call + step * int(rng.integers(1, 9)),
        )
        expiry = TODAY + timedelta(days=int(rng.integers(25, 61)))
        out.append(
            condor(
                structure_id,
                quantity=int(rng.integers(1, 4)),
                credit=float(rng.uniform(0.2, 0.6) * (strikes[1] - strikes[0])),
                strikes=strikes,
                expiry=expiry,
                opened_at=NOW - timedelta(days=int(rng.integers(1, 20))),
            )
        )
    return out


def vix_structure(
    structure_id: int, kind: StructureKind, legs: tuple[Leg, ...], quantity: int
) -> Structure:
    return Structure(structure_id, Engine.VIX, kind, legs, quantity, 1.0, NOW - timedelta(days=5))


def random_vix_layer(rng: np.random.Generator) -> list[Structure]:
    out = []
    structure_id = 100
    legs: tuple[Leg, ...]
    for _ in range(int(rng.integers(0, 3))):
        call = vix_call(float(rng.integers(22, 31)), VIX_EXPIRIES[int(rng.integers(2, 5))])
        legs = (Leg(call, Side.BUY),)
        out.append(
            vix_structure(structure_id, StructureKind.CALL_BLOCK, legs, int(rng.integers(1, 11)))
        )
        structure_id += 1
    for _ in range(int(rng.integers(0, 3))):
        expiry = VIX_EXPIRIES[int(rng.integers(2, 5))]
        sold = float(rng.integers(16, 24))
        legs = (
            Leg(vix_call(sold, expiry), Side.SELL),
            Leg(
                vix_call(sold + float(rng.integers(2, 9)), expiry),
                Side.BUY,
                int(rng.integers(1, 5)),
            ),
        )
        out.append(
            vix_structure(structure_id, StructureKind.BACKSPREAD, legs, int(rng.integers(1, 6)))
        )
        structure_id += 1
    for expiry in VIX_EXPIRIES[1:4]:
        if rng.random() < 0.5:
            legs = (Leg(vix_future(expiry), Side.BUY),)
            out.append(
                vix_structure(
                    structure_id, StructureKind.FUTURES_RUNG, legs, int(rng.integers(1, 6))
                )
            )
            structure_id += 1
    return out


@dataclass(frozen=True)
class Market:
    """One cycle's market: every SPX chain the book or the entry may need, the VIX side, the
    trading days and the macro events."""

    now: datetime
    spx_chains: dict[date, OptionChain]
    vix_chains: dict[date, OptionChain]
    futures: tuple[FutureQuote, ...]
    sessions: tuple[date, ...]
    events: tuple[MacroEvent, ...]
    drop_roll_chain: bool
    quotes: dict[str, LegQuote] = field(default_factory=dict)  # every quote above, by key

    def __post_init__(self) -> None:
        self.quotes.update((q.contract.key, q) for q in self.futures)
        for chain in (*self.spx_chains.values(), *self.vix_chains.values()):
            self.quotes.update((q.contract.key, q) for q in chain.quotes)

    def snapshot_for(self, book: Iterable[Structure]) -> MarketSnapshot:
        """Return what the bot would gather for `book`: held legs, the entry chain, and the
        chains of the expiries `expiries_to_roll` names (one may be missing)."""
        held = {
            leg.contract.key: self.quotes[leg.contract.key]
            for s in book
            for leg in s.legs
            if leg.contract.key in self.quotes
        }
        today = self.now.date()
        entry = today + timedelta(days=45)
        wanted = {entry} | expiries_to_roll(book, held, STRATEGY.condor)
        if self.drop_roll_chain and len(wanted) > 1:
            wanted.remove(max(wanted - {entry}))
        return MarketSnapshot(
            time=self.now,
            spx=index_quote("SPX", 0.0),
            vix=index_quote("VIX", 0.0),
            chains={e: c for e, c in self.spx_chains.items() if e in wanted},
            expiries=tuple(sorted(self.spx_chains)),
            leg_quotes=held,
            futures=self.futures,
            vix_chains=self.vix_chains,
            sessions=self.sessions,
        )


def random_market(
    rng: np.random.Generator, book: Iterable[Structure], spot: float, step: float, cycle: int
) -> Market:
    now = NOW + timedelta(days=7 * cycle)
    today = now.date()
    vol = float(rng.uniform(0.10, 0.50))
    holes = float(rng.choice([0.0, 0.0, 0.02, 0.1]))
    expiries = {today + timedelta(days=45)} | {
        leg.contract.expiry
        for s in book
        if s.engine is Engine.CONDOR
        for leg in s.legs
        if leg.contract.expiry > today
    }
    spx = {
        e: bs_chain(
            spot,
            vol,
            e,
            (e - today).days,
            step,
            rng=rng,
            nan_frac=holes,
            zero_ask_frac=holes,
            crossed_frac=holes / 2,
            window=0.35,
        )
        for e in sorted(expiries)
    }
    vix_level = float(rng.uniform(11.0, 40.0))
    vix, futures = {}, []
    for n, expiry in enumerate(VIX_EXPIRIES):
        forward = vix_level + (1.5 * n if vix_level < 20 else -1.0 * n)
        futures.append(future_quote(expiry, forward))
        vix[expiry] = black76_vix_chain(forward, 0.9, expiry, (expiry - today).days, range(10, 46))
    weekdays = np.arange(np.datetime64(today), np.datetime64(today + timedelta(days=40)))
    sessions = tuple(d.astype(date) for d in weekdays if np.is_busday(d))
    events = tuple(
        macro_event(
            today + timedelta(days=int(rng.integers(0, 6))), str(rng.choice(["CPI", "PPI", "FOMC"]))
        )
        for _ in range(int(rng.integers(0, 2)))
    )
    return Market(now, spx, vix, tuple(futures), sessions, events, bool(rng.random() < 0.15))


def counts_of(book: Iterable[Structure]) -> tuple[dict[tuple[str, date, str], int], dict[str, int]]:
    """Independent oracle: the signed count per option series (symbol, expiry, right), and per
    future, over the whole book."""
    options: dict[tuple[str, date, str], int] = defaultdict(int)
    futures: dict[str, int] = defaultdict(int)
    for structure in book:
        for leg in structure.legs:
            count = (1 if leg.side is Side.BUY else -1) * leg.ratio * structure.quantity
            contract = leg.contract
            if isinstance(contract, OptionContract):
                options[(contract.symbol, contract.expiry, contract.right.value)] += count
            else:
                futures[contract.key] += count
    return options, futures


def assert_book_is_sound(book: list[Structure]) -> None:
    options, futures = counts_of(book)
    assert {k: n for k, n in options.items() if k[0] == "VIX" and k[2] == "C" and n < 0} == {}
    assert {k: n for k, n in options.items() if n < 0} == {}
    assert {k: n for k, n in futures.items() if n < 0} == {}
    condors = [s for s in book if s.engine is Engine.CONDOR]
    assert len(condors) <= STRATEGY.condor.max_open
    for structure in condors:
        sp, lp, sc, lc = (leg.contract for leg in structure.legs)
        assert isinstance(sp, OptionContract) and isinstance(lp, OptionContract)
        assert isinstance(sc, OptionContract) and isinstance(lc, OptionContract)
        assert [leg.side for leg in structure.legs] == [Side.SELL, Side.BUY, Side.SELL, Side.BUY]
        assert (sp.right, lp.right, sc.right, lc.right) == (
            Right.PUT,
            Right.PUT,
            Right.CALL,
            Right.CALL,
        )
        assert lp.strike < sp.strike < sc.strike < lc.strike
        assert len({sp.expiry, lp.expiry, sc.expiry, lc.expiry}) == 1


def signed(legs: Iterable[Leg], quantity: int) -> dict[str, int]:
    """Return the signed contract count per key, without the keys that net to zero."""
    out: dict[str, int] = defaultdict(int)
    for leg in legs:
        out[leg.contract.key] += leg.signed_ratio * quantity
    return {key: count for key, count in out.items() if count != 0}


def max_loss(legs: Iterable[Leg], quotes: Mapping[str, LegQuote]) -> float:
    """Independent oracle: a condor's max loss in USD per unit at mid (widest side - credit)."""
    strikes: dict[Right, list[float]] = defaultdict(list)
    credit = 0.0
    for leg in legs:
        contract = leg.contract
        assert isinstance(contract, OptionContract)
        strikes[contract.right].append(contract.strike)
        credit -= leg.signed_ratio * quotes[contract.key].quote.mid
    width = max(max(side) - min(side) for side in strikes.values())
    return (width - credit) * 100


def assert_accepted_intent_is_within_limits(
    intent: Intent,
    book: list[Structure],
    snap: MarketSnapshot,
    impact: MarginImpact | None,
    day_pnl: float,
    nlv: float,
) -> None:
    limits = STRATEGY.risk
    assert intent.quantity >= 1
    assert max(leg.ratio for leg in intent.legs) * intent.quantity <= limits.max_contracts_per_order
    if intent.kind is not IntentKind.CLOSE:
        assert impact is not None
        assert (
            impact.excess_liquidity_after
            >= limits.min_excess_liquidity_pct * impact.net_liquidation
        )
    if intent.kind is IntentKind.OPEN and intent.engine is Engine.CONDOR:
        assert day_pnl > -limits.daily_loss_limit_pct * nlv
    chains = (*snap.chains.values(), *snap.vix_chains.values())
    quotes: dict[str, LegQuote] = {q.contract.key: q for c in chains for q in c.quotes}
    quotes |= {q.contract.key: q for q in snap.futures} | snap.leg_quotes
    for leg in intent.legs:  # bad data never becomes an order
        assert quotes[leg.contract.key].problem() is None
    if intent.structure_kind is StructureKind.IRON_CONDOR and intent.kind is not IntentKind.CLOSE:
        condor_legs = intent.result_legs if intent.kind is IntentKind.ROLL else intent.legs
        assert max_loss(condor_legs, quotes) * intent.quantity <= (
            STRATEGY.condor.max_loss_pct * nlv + 1e-6
        )
    if intent.kind is IntentKind.ROLL:
        old = next(s for s in book if s.id == intent.structure_id)
        assert intent.limit_price < 0
        after = signed([*old.legs, *intent.legs], 1)
        assert after == signed(intent.result_legs, 1)  # the combo turns the old condor into the new


def apply(book: list[Structure], intent: Intent, next_id: int, now: datetime) -> list[Structure]:
    """Return the book after `intent` fills in full."""
    if intent.kind is IntentKind.OPEN:
        return [
            *book,
            Structure(
                next_id,
                intent.engine,
                intent.structure_kind,
                intent.legs,
                intent.quantity,
                intent.limit_price,
                now,
            ),
        ]
    old = next(s for s in book if s.id == intent.structure_id)
    rest = [s for s in book if s.id != old.id]
    if intent.kind is IntentKind.CLOSE:
        left = old.quantity - intent.quantity
        return rest + ([dataclasses.replace(old, quantity=left)] if left > 0 else [])
    rolled = Structure(
        next_id,
        old.engine,
        old.kind,
        intent.result_legs,
        intent.quantity,
        old.open_price + intent.limit_price,
        now,
    )
    return [*rest, rolled]


WHY = (
    "DTE",
    "stop",
    "take profit",
    "both sides tested",
    "roll would",
    "the new short",
    "the rolled condor",
)


def why(intent: Intent) -> str:
    """Return which rule made the intent, for the statistics."""
    if intent.kind is not IntentKind.CLOSE:
        return intent.structure_kind.value
    return next((rule for rule in WHY if rule in intent.reason), "other")


def random_hedge(rng: np.random.Generator, now: datetime, nlv: float) -> HedgeState:
    """Return a random hedge state: the signals, k, the ratio, the operator's overrides and the
    layer's cost over the year (from well under to well over its budget)."""
    known = rng.random() < 0.8
    episode = str(rng.choice(["", "low", "high"]))
    signals = (
        Signals(
            day=now.date() - timedelta(days=int(rng.integers(1, 4))),
            breadth_divergence=bool(rng.random() < 0.3),
            spx_crossover=int(rng.choice([-1, 0, 1])),
            vix_rsi={"": 50.0, "low": 25.0, "high": 75.0}[episode] + float(rng.uniform(-4, 4)),
            rsi_episode=episode,
            rsi_episode_start=now.date() - timedelta(days=int(rng.integers(1, 20)))
            if episode
            else None,
            r2=float(rng.uniform(0.0, 1.0)),
        )
        if known
        else Signals()
    )
    return HedgeState(
        k=float(rng.uniform(0.5, 2.0)),
        ratio=int(rng.integers(1, 5)),
        hedge_scale=float(rng.choice([1.0, 0.0, 0.5, 2.0])),
        ratio_override=None if rng.random() < 0.7 else int(rng.integers(1, 5)),
        signals=signals,
        layer_cost_year=float(rng.uniform(-0.02, 0.05)) * nlv,
    )


def run_cycles(seed: int) -> Counter[str]:
    """Run DECIDERS over a random book and CYCLES random markets; return what happened."""
    rng = np.random.default_rng(seed)
    spot = float(rng.uniform(2000.0, 5000.0))
    step = float(rng.choice([10.0, 25.0]))
    book = random_condors(rng, spot, step) + random_vix_layer(rng)
    nlv = float(10.0 ** rng.uniform(5.7, 7.0))
    assert_book_is_sound(book)
    seen: Counter[str] = Counter()
    next_id = 1000
    for cycle in range(CYCLES):
        spot *= float(np.exp(rng.normal(0.0, 0.03)))
        market = random_market(rng, book, spot, step, cycle)
        day_pnl = float(rng.uniform(-0.03, 0.01)) * nlv
        hedge = dataclasses.replace(random_hedge(rng, market.now, nlv), day_pnl=day_pnl)
        for _name, decide in DECIDERS:
            snap = market.snapshot_for(book)
            state_now = PortfolioState(account(nlv), tuple(book), hedge, market.events)
            decision = decide(snap, state_now, STRATEGY, market.now)
            seen.update(
                f"skip: {re.sub(r'[0-9.,$+-]+', '#', s.reason)[:30]}" for s in decision.skips
            )
            for intent in decision.intents:
                impact = (
                    None if rng.random() < 0.1 else margin(float(rng.uniform(0.0, 1.0)) * nlv, nlv)
                )
                gate_state = PortfolioState(account(nlv), tuple(book), hedge, market.events)
                problem = check_intent(intent, gate_state, STRATEGY, impact)
                if problem is not None:
                    seen[f"refused {intent.kind}: {problem.split(' ')[0]}"] += 1
                    continue
                assert_accepted_intent_is_within_limits(intent, book, snap, impact, day_pnl, nlv)
                book = apply(book, intent, next_id, market.now)
                next_id += 1
                seen[f"accepted {intent.kind}"] += 1
                seen[f"accepted {intent.kind} ({why(intent)})"] += 1
                assert_book_is_sound(book)
    return seen


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_decisions_through_the_gate_never_break_the_book(seed: int) -> None:
    for outcome in run_cycles(seed):
        event(outcome)


def test_random_books_take_every_path() -> None:
    # Guards the property above against passing vacuously: over fixed seeds, condors are
    # rolled, stopped, closed instead of a debit roll or with both sides tested, opened, kept
    # out by the blackout; every part of the VIX layer is opened (the hedge state is random);
    # and the gate refuses opens past the daily loss limit and rolls.
    seen: Counter[str] = Counter()
    for seed in range(30):
        seen += run_cycles(seed)
    for outcome in (
        "accepted roll",
        "accepted open (iron_condor)",
        "accepted open (futures_rung)",
        "accepted open (call_block)",
        "accepted open (backspread)",
        "accepted open (addon_calls)",
        "accepted close (stop)",
        "accepted close (roll would)",
        "accepted close (both sides tested)",
        "accepted close (take profit)",
        "skip: event blackout",
        "refused open: daily",
        "refused roll",
    ):
        assert sum(n for key, n in seen.items() if key.startswith(outcome)) > 0, (outcome, seen)
