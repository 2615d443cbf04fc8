"""broker.sim.scalar_quotes gives the numbers of the vectorized models, one contract at a time.

Vols and futures prices must agree with the vector functions to 1e-12 relative (1e-12
absolute near zero), NaN where they give NaN; books must be identical to the tick; and
SimMarket must return the same quotes whichever path a batch takes.

The references are called with 1-element arrays, as SimMarket calls them: on 0-d arrays NumPy
computes ``x ** 2`` with pow rather than as a square, an ulp away at times.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import broker.sim.market as market_module
from broker.calendar import NY, default_calendar
from broker.contracts import FutureContract, OptionContract, Right
from broker.market import OptionQuote, Quote
from broker.sim.book import BookParams, future_book, option_book, stress_scale
from broker.sim.history import DailyHistory
from broker.sim.listings import Product
from broker.sim.market import MarketModel, SimMarket
from broker.sim.scalar_quotes import (
    SCALAR_BATCH,
    array_power,
    future_book_one,
    moneyness_sd,
    option_book_one,
    round_cents,
    spx_vol_one,
    vix_future_price_one,
    vix_option_vol_one,
)
from broker.sim.vix_futures import TermStructureParams, vix_futures_prices
from broker.sim.volatility import (
    SpxSurface,
    VixOptionParams,
    spx_surface,
    vix_option_vol,
)

NAN = math.nan


def agree(scalar: float, vector: float) -> bool:
    """Return whether two results agree: both NaN, or within 1e-12 relative or absolute."""
    if math.isnan(vector) or math.isnan(scalar):
        return math.isnan(vector) and math.isnan(scalar)
    if scalar == vector:
        return True
    return abs(scalar - vector) <= 1e-12 * max(abs(scalar), abs(vector), 1.0)


def same(a: float, b: float) -> bool:
    """Return whether two floats are identical (NaN equal to NaN)."""
    return a == b or (math.isnan(a) and math.isnan(b))


def edgy(ordinary: st.SearchStrategy[float], *edges: float) -> st.SearchStrategy[float]:
    """Mostly ordinary values, sometimes one of the edge cases."""
    return st.one_of(ordinary, ordinary, ordinary, st.sampled_from(edges))


vix_levels = edgy(st.floats(5.0, 120.0), NAN, 0.0, -3.0, 1e-300, math.inf, 9.0, 15.0, 135.0)
spx_levels = edgy(st.floats(500.0, 8000.0), 0.0, -1.0, NAN, math.inf, 1e-300)
vix_prices = edgy(st.floats(5.0, 150.0), 0.0, -1.0, NAN, math.inf, 1e-300)
years = edgy(st.floats(0.0, 3.0), 0.0, -0.01, 1e-12, 1e-7, NAN, math.inf)


# --------------------------------------------------------------------------------------------
# Vols and futures
# --------------------------------------------------------------------------------------------

_SURFACES: dict[float, SpxSurface] = {}


def surface_at(vix: float) -> SpxSurface:
    key = vix if vix == vix else -999.0
    if key not in _SURFACES:
        with np.errstate(all="ignore"):  # a VIX near 0 leaves the anchor's integral NaN
            _SURFACES[key] = spx_surface(vix)
    return _SURFACES[key]


@given(vix_levels, spx_levels, spx_levels, years)
@example(16.0, 2700.0, 2700.0, 0.0)
@example(16.0, 2700.0, 1000.0, 1e-9)
@example(16.0, 2700.0, 7000.0, 2.5)
@example(NAN, 2700.0, 2600.0, 0.1)
@example(-1.0, 2700.0, 2600.0, 0.1)
@example(16.0, 2700.0, 1e-300, 0.1)
def test_spx_vol_one_matches_the_surface(
    vix: float, forward: float, strike: float, t: float
) -> None:
    surface = surface_at(vix)
    with np.errstate(all="ignore"):
        expected = float(surface.vol([forward], [strike], [t])[0])
    assert agree(spx_vol_one(surface, forward, strike, t), expected)


@given(vix_levels, vix_prices, vix_prices, years)
@example(20.0, 18.0, 18.0, 0.0)
@example(20.0, 18.0, 60.0, 1e-9)
@example(NAN, 18.0, 20.0, 0.1)
@example(0.0, 18.0, 20.0, 0.1)
@example(20.0, -18.0, 20.0, 0.1)
def test_vix_option_vol_one_matches_the_vector_function(
    vix: float, future: float, strike: float, t: float
) -> None:
    params = VixOptionParams()
    with np.errstate(all="ignore"):
        expected = float(vix_option_vol(vix, [future], [strike], [t], params)[0])
    assert agree(vix_option_vol_one(vix, future, strike, t, params), expected)


@pytest.mark.parametrize("term_power", [0.35, 0.5, 2.0, 1.0])
def test_vix_option_vol_one_follows_numpys_special_powers(term_power: float) -> None:
    # NumPy computes an array's ** 0.5 and ** 2 as sqrt and square, not with pow
    params = VixOptionParams(term_power=term_power)
    for t in np.linspace(1e-6, 0.7, 301).tolist():
        assert agree(
            vix_option_vol_one(18.0, 19.0, 23.0, t, params),
            float(vix_option_vol(18.0, [19.0], [23.0], [t], params)[0]),
        )


@given(vix_levels, years)
@example(16.0, 0.0)
@example(16.0, -1.0)
@example(NAN, 0.1)
def test_vix_future_price_one_matches_the_curve(vix: float, t: float) -> None:
    params = TermStructureParams()
    with np.errstate(all="ignore"):
        expected = float(vix_futures_prices(vix, [t], params)[0])
    assert agree(vix_future_price_one(vix, t, params), expected)


@given(spx_levels, spx_levels, edgy(st.floats(0.01, 3.0), 0.0, NAN), years)
def test_moneyness_is_the_vector_z(strike: float, forward: float, vol: float, t: float) -> None:
    with np.errstate(all="ignore"):
        k, f, v, tt = (np.array([x]) for x in (strike, forward, vol, t))
        expected = float((np.log(k / f) / (v * np.sqrt(np.maximum(tt, 1e-8))))[0])
    assert agree(moneyness_sd(strike, forward, vol, t), expected)


# --------------------------------------------------------------------------------------------
# Books: identical to the tick
# --------------------------------------------------------------------------------------------

# Values on and next to the tick boundaries the rounding formulas decide between
tick_multiples = st.integers(0, 20_000).map(lambda n: n * 0.05)
knife_edges = st.tuples(tick_multiples, st.sampled_from([-2, -1, 0, 1, 2])).map(
    lambda nk: nk[0] if nk[1] == 0 else float(np.nextafter(nk[0], math.copysign(1e9, nk[1])))
)
values = st.one_of(
    st.floats(0.0, 5000.0), tick_multiples, knife_edges, st.sampled_from([NAN, -0.01, math.inf])
)
zs = edgy(st.floats(-8.0, 8.0), NAN, math.inf, -math.inf, 0.0)
book_vix = edgy(st.floats(5.0, 150.0), 0.0, -1.0, 15.0, 13.5, 135.0, math.inf)


@given(st.sampled_from([Product.SPXW, Product.SPX, Product.VIX_OPTION]), values, zs, book_vix)
@example(Product.SPXW, 2.975, 0.0, 15.0)
@example(Product.SPXW, 3.0, 0.0, 15.0)
@example(Product.VIX_OPTION, 0.025, 1.0, 15.0)
def test_option_book_one_is_option_book(
    product: Product, theo: float, z: float, vix: float
) -> None:
    params = BookParams()
    with np.errstate(all="ignore"):
        book = option_book(product, [theo], [z], vix, params)
    bid, ask, size = option_book_one(product, theo, z, vix, params)
    assert same(bid, float(book.bid[0])) and same(ask, float(book.ask[0]))
    assert size == int(book.size[0]) and isinstance(size, int)


@given(values, book_vix)
@example(15.025, 15.0)
@example(15.0, 13.5)
def test_future_book_one_is_future_book(price: float, vix: float) -> None:
    params = BookParams()
    with np.errstate(all="ignore"):
        book = future_book([price], vix, params)
    bid, ask, size = future_book_one(price, vix, params)
    assert same(bid, float(book.bid[0])) and same(ask, float(book.ask[0]))
    assert size == int(book.size[0])


def test_a_nan_vix_raises_in_both_books() -> None:
    with pytest.raises(ValueError):
        option_book(Product.SPXW, [1.0], [0.0], NAN)
    with pytest.raises(ValueError):
        option_book_one(Product.SPXW, 1.0, 0.0, NAN, BookParams())
    with pytest.raises(ValueError):
        future_book([15.0], NAN)
    with pytest.raises(ValueError):
        future_book_one(15.0, NAN, BookParams())


@given(st.one_of(st.floats(-1e6, 1e6), knife_edges, st.sampled_from([-0.001, -0.0, 0.0])))
def test_round_cents_is_np_round(x: float) -> None:
    expected = float(np.round(np.array([x]), 2)[0])
    assert same(round_cents(x), expected)
    assert math.copysign(1.0, round_cents(x)) == math.copysign(1.0, expected)


@given(
    st.floats(1e-3, 1e3),
    st.sampled_from([2.0, 0.5, -1.0, 1.0, 0.0, 0.35, 3.0, -0.5]),
)
def test_array_power_is_numpys_power(base: float, exponent: float) -> None:
    assert array_power(base, exponent) == float((np.array([base]) ** exponent)[0])


@given(edgy(st.floats(0.0, 200.0), NAN, -1.0, math.inf, 0.0))
def test_stress_scale_is_the_clipped_ratio(vix: float) -> None:
    p = BookParams()
    ratio = max(vix, 0.0) / p.calm_vix
    expected = float(np.clip(ratio**p.stress_power, p.min_scale, p.max_scale))
    assert same(stress_scale(vix, p), expected)


# --------------------------------------------------------------------------------------------
# SimMarket: the same quotes whichever path a batch takes
# --------------------------------------------------------------------------------------------

NOW = datetime(2018, 2, 6, 11, 15, tzinfo=NY)  # a volatile morning (VIX near 30)


def _flat(q: OptionQuote | Quote) -> tuple[object, ...]:
    if isinstance(q, OptionQuote):
        g = q.greeks
        return (*_flat(q.quote), g.iv, g.delta, g.gamma, g.vega, g.theta, q.underlying_price)
    return (q.contract, q.bid, q.ask, q.last, q.time, q.bid_size, q.ask_size)


def assert_same_quotes(
    a: list[OptionQuote] | list[Quote], b: list[OptionQuote] | list[Quote]
) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        fx, fy = _flat(x), _flat(y)
        for u, v in zip(fx, fy, strict=True):
            assert type(u) is type(v), (fx, fy)
            if isinstance(u, float) and isinstance(v, float):
                assert agree(u, v), (fx, fy)
            else:
                assert u == v
        if isinstance(x, OptionQuote) and isinstance(y, OptionQuote):
            x, y = x.quote, y.quote
        assert same(x.bid, y.bid) and same(x.ask, y.ask), (fx, fy)


def held_book(
    market: SimMarket, now: datetime
) -> tuple[list[OptionContract], list[FutureContract]]:
    """A condor, VIX calls and futures like a replay holds, plus an unlisted series."""
    calendar = market.calendar
    day = now.astimezone(NY).date()
    spx, _ = market.levels(now)
    atm = round(spx / 5) * 5
    expiry = calendar.spxw_expiries(day + timedelta(days=40), day + timedelta(days=60))[0]
    condor = [
        OptionContract("SPX", "SPXW", expiry, atm + offset, right)
        for offset, right in (
            (-150, Right.PUT),
            (-200, Right.PUT),
            (100, Right.CALL),
            (150, Right.CALL),
        )
    ]
    vix_expiries = market.listings.future_expiries("VIX", "VX", now)
    calls = [
        OptionContract("VIX", "VIX", vix_expiries[1], k, Right.CALL) for k in (22.0, 25.0, 30.0)
    ]
    odd = [
        OptionContract("SPX", "SPXQ", expiry, atm, Right.PUT),  # no such class: no book
        OptionContract("XSP", "XSP", expiry, atm / 10, Right.PUT),  # not quoted at all
        OptionContract("VIX", "VIX", vix_expiries[0], 9.0, Right.PUT),
    ]
    futures = [FutureContract("VIX", "VX", e) for e in vix_expiries[:3]]
    return condor + calls + odd, futures


def vector_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(market_module, "SCALAR_BATCH", -1)


@pytest.mark.parametrize(
    "now",
    [
        NOW,
        datetime(2018, 1, 17, 9, 30, tzinfo=NY),  # a VIX expiry morning: its future settles
        datetime(2018, 3, 16, 16, 0, tzinfo=NY),  # an SPX expiry at the close
        datetime(2018, 3, 17, 12, 0, tzinfo=NY),  # a Saturday
    ],
)
def test_a_held_book_is_quoted_the_same_by_both_paths(
    history: DailyHistory, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    options, futures = held_book(SimMarket(history, default_calendar(), MarketModel()), now)
    scalar = SimMarket(history, default_calendar(), MarketModel())
    got = scalar.option_quotes(options, now)
    got_futures = scalar.future_quotes(futures, now)
    fair = scalar.vix_future_prices([f.expiry for f in futures], now)
    assert scalar.option_quotes(options, now) == got  # memoized within the instant
    vector_only(monkeypatch)
    vector = SimMarket(history, default_calendar(), MarketModel())
    assert_same_quotes(got, vector.option_quotes(options, now))
    assert_same_quotes(got_futures, vector.future_quotes(futures, now))
    expected_fair = vector.vix_future_prices([f.expiry for f in futures], now)
    assert isinstance(fair, np.ndarray) and fair.dtype == np.float64
    assert np.array_equal(fair, expected_fair)
    assert [q.contract for q in got] == options
    assert math.isnan(got[7].quote.bid) and math.isfinite(got[7].quote.last)  # unlisted class
    assert math.isnan(got[8].quote.last)  # no model for XSP


@pytest.mark.parametrize("n", [SCALAR_BATCH - 1, SCALAR_BATCH, SCALAR_BATCH + 1])
def test_batches_around_the_threshold_match_the_vector_path(
    history: DailyHistory, n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    spx, _ = SimMarket(history, default_calendar(), MarketModel()).levels(NOW)
    atm = round(spx / 5) * 5
    spx_options = [
        OptionContract("SPX", "SPXW", date(2018, 3, 16), atm + 25 * (i - n // 2), Right.PUT)
        for i in range(n)
    ]
    vix_options = [
        OptionContract("VIX", "VIX", date(2018, 3, 21), float(12 + 2 * i), Right.CALL)
        for i in range(n)
    ]
    expiries = SimMarket(history, default_calendar(), MarketModel()).listings.future_expiries(
        "VIX", "VX", NOW
    )
    futures = [FutureContract("VIX", "VX", expiries[i % len(expiries)]) for i in range(n)]
    market = SimMarket(history, default_calendar(), MarketModel())
    quotes = market.option_quotes(spx_options + vix_options, NOW)  # each symbol a batch of n
    future_quotes = market.future_quotes(futures, NOW)
    vector_only(monkeypatch)
    vector = SimMarket(history, default_calendar(), MarketModel())
    assert_same_quotes(quotes, vector.option_quotes(spx_options + vix_options, NOW))
    assert_same_quotes(future_quotes, vector.future_quotes(futures, NOW))


def test_user_futures_settles_shift_the_same_way_in_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "fut.csv"
    path.write_text("date,expiry,settle\n2018-12-31,2019-01-16,25.1\n", encoding="utf-8")
    history = DailyHistory.from_sources(futures_csv=path, start=date(2018, 12, 1))
    now = datetime(2018, 12, 31, 11, 0, tzinfo=NY)
    expiries = [date(2019, 1, 16), date(2019, 2, 13)]  # one settle given, one from the model
    scalar = SimMarket(history, default_calendar(), MarketModel())
    got = scalar.vix_future_prices(expiries, now)
    vector_only(monkeypatch)
    vector = SimMarket(history, default_calendar(), MarketModel())
    expected = vector.vix_future_prices(expiries, now)
    assert all(agree(float(a), float(b)) for a, b in zip(got, expected, strict=True))
    assert abs(got[0] - 25.1) < 5.0  # the user's settle, moved by the model since the close


def test_threshold_keeps_chains_on_the_vector_path() -> None:
    assert 8 <= SCALAR_BATCH < 38  # the smallest VIX chain a replay asks for has 38 strikes
