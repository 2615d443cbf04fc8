"""Limit prices walk from mid toward the natural price on the tick grid, never past it."""

from __future__ import annotations

import pytest

from bot.pricing_walk import walk_prices


def test_credit_walk_starts_at_mid_and_ends_at_natural() -> None:
    prices = walk_prices(mid=-2.43, natural=-2.10, steps=4, tick=0.05)
    assert prices[0] == pytest.approx(-2.45)  # asks a little more credit than mid first
    assert prices[-1] == pytest.approx(-2.10)
    assert prices == sorted(prices)  # each step concedes a little


def test_debit_walk_rises_toward_the_ask() -> None:
    prices = walk_prices(mid=1.02, natural=1.40, steps=4, tick=0.05)
    assert prices[0] == pytest.approx(1.00)
    assert prices[-1] == pytest.approx(1.40)
    assert all(p <= 1.40 for p in prices)


def test_prices_are_on_the_tick_grid_and_distinct() -> None:
    prices = walk_prices(mid=-3.01, natural=-2.50, steps=4, tick=0.05)
    assert all(abs(p / 0.05 - round(p / 0.05)) < 1e-9 for p in prices)
    assert len(prices) == len(set(prices))


def test_zero_steps_sends_only_the_mid() -> None:
    assert walk_prices(mid=-1.97, natural=-1.50, steps=0, tick=0.05) == [pytest.approx(-2.00)]
