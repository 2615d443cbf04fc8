"""The simulated book: spreads by price, moneyness and VIX, ticks, displayed sizes; fees."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.sim.book import BookParams, future_book, option_book, option_tick
from broker.sim.fees import FeeSchedule
from broker.sim.listings import Product


def on_grid(prices: np.ndarray, ticks: np.ndarray) -> bool:
    return bool(np.allclose(np.round(prices / ticks) * ticks, prices, atol=1e-9))


@given(
    theo=st.floats(0.0, 2000.0),
    z=st.floats(-6.0, 6.0),
    vix=st.floats(8.0, 90.0),
    product=st.sampled_from([Product.SPXW, Product.SPX, Product.VIX_OPTION]),
)
def test_bid_at_most_value_at_most_ask_on_the_tick_grid(
    theo: float, z: float, vix: float, product: Product
) -> None:
    book = option_book(product, [theo], [z], vix)
    bid, ask = float(book.bid[0]), float(book.ask[0])
    assert 0.0 <= bid <= theo + 1e-9 <= ask + 2e-9
    assert ask - bid >= 0.05 - 1e-9
    tick = option_tick([theo])
    assert on_grid(np.array([bid, ask]), np.array([0.05, 0.05]))
    if theo >= 3.0:
        assert on_grid(np.array([ask]), tick)


def test_worthless_options_have_no_bid_and_a_one_tick_ask() -> None:
    book = option_book(Product.SPXW, [0.01, 0.0], [4.0, 6.0], 15.0)
    assert list(book.bid) == [0.0, 0.0] and list(book.ask) == [0.05, 0.05]


def test_spreads_widen_in_stress_and_far_from_the_money_and_sizes_shrink() -> None:
    calm = option_book(Product.SPXW, [12.0, 12.0], [0.0, 2.0], 15.0)
    stress = option_book(Product.SPXW, [12.0, 12.0], [0.0, 2.0], 60.0)
    calm_width = calm.ask - calm.bid
    assert np.all(stress.ask - stress.bid > calm_width)
    assert calm_width[1] >= calm_width[0]
    assert stress.size[0] < calm.size[0]


def test_typical_spx_spreads_match_the_documented_sizes() -> None:
    # 45-day options at VIX 15: a 16-delta put near 12.00, the at-the-money near 55.00
    book = option_book(Product.SPXW, [12.0, 55.0], [-1.0, 0.0], 15.0)
    widths = book.ask - book.bid
    assert 0.2 <= widths[0] <= 0.5
    assert 0.8 <= widths[1] <= 1.5


def test_deep_in_the_money_spreads_are_capped_in_points() -> None:
    book = option_book(Product.SPXW, [900.0], [-3.0], 15.0, BookParams())
    assert float(book.ask[0] - book.bid[0]) <= 2 * 2.50 + 0.2


@given(price=st.floats(5.0, 80.0), vix=st.floats(9.0, 80.0))
def test_futures_are_at_least_one_tick_wide_around_fair_value(price: float, vix: float) -> None:
    book = future_book([price], vix)
    bid, ask = float(book.bid[0]), float(book.ask[0])
    assert bid - 1e-9 <= price <= ask + 1e-9  # a fair value a hair below a tick rounds onto it
    assert ask - bid >= 0.05 - 1e-9
    assert on_grid(np.array([bid, ask]), np.array([0.05, 0.05]))


def test_futures_are_one_tick_wide_when_calm_and_wider_in_stress() -> None:
    for fair in (15.12, 15.10, 15.149):
        book = future_book([fair], 12.0)
        assert float(book.ask[0] - book.bid[0]) == pytest.approx(0.05)
        assert book.bid[0] <= fair <= book.ask[0]
    stressed = future_book([35.0], 60.0)
    assert float(stressed.ask[0] - stressed.bid[0]) >= 0.10 - 1e-9


def test_bad_values_give_no_book() -> None:
    book = option_book(Product.SPXW, [float("nan"), -1.0], [0.0, 0.0], 15.0)
    assert np.isnan(book.bid).all() and np.isnan(book.ask).all()
    assert np.isnan(future_book([float("nan")], 15.0).bid).all()


def test_fees_per_contract_by_product() -> None:
    fees = FeeSchedule()
    assert fees.charge(Product.SPXW, 3) == pytest.approx(3.75)
    assert fees.charge(Product.SPX, -2) == pytest.approx(2.50)
    assert fees.charge(Product.VIX_OPTION, 4) == pytest.approx(4.40)
    assert fees.charge(Product.VIX_FUTURE, 1) == pytest.approx(2.37)
    assert FeeSchedule(vix_future_fee=0.0).charge(Product.VIX_FUTURE, 2) == pytest.approx(1.70)
