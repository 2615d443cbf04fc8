"""choose_expiry, nearest_delta and units_within_risk on hand-picked inputs."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from snapshots import option, option_quote, with_market, with_nan_greeks

from broker.contracts import Right
from broker.market import OptionQuote
from strategies.expiry import choose_expiry, days_to_expiry
from strategies.sizing import units_within_risk
from strategies.strikes import nearest_delta

TODAY = date(2024, 3, 4)


def days(*offsets: int) -> list[date]:
    return [TODAY + timedelta(days=d) for d in offsets]


def put(strike: float, delta: float) -> OptionQuote:
    return option_quote(option(strike, Right.PUT), 1.0, 1.5, delta)


def call(strike: float, delta: float) -> OptionQuote:
    return option_quote(option(strike, Right.CALL), 1.0, 1.5, delta)


# --------------------------------------------------------------------------------------------
# Expiry
# --------------------------------------------------------------------------------------------


def test_days_to_expiry_counts_calendar_days() -> None:
    assert days_to_expiry(date(2024, 4, 18), TODAY) == 45
    assert days_to_expiry(TODAY, TODAY) == 0
    assert days_to_expiry(date(2024, 3, 1), TODAY) == -3


def test_choose_expiry_nearest_target() -> None:
    assert choose_expiry(days(17, 41, 47, 55, 73), TODAY, 45, 40, 60) == TODAY + timedelta(47)


def test_choose_expiry_tie_picks_the_earlier() -> None:
    assert choose_expiry(days(44, 46), TODAY, 45, 40, 60) == TODAY + timedelta(44)
    assert choose_expiry(days(46, 44), TODAY, 45, 40, 60) == TODAY + timedelta(44)


def test_choose_expiry_exact_target_wins() -> None:
    assert choose_expiry(days(60, 45, 40), TODAY, 45, 40, 60) == TODAY + timedelta(45)


@pytest.mark.parametrize("dte", [40, 60])
def test_choose_expiry_window_is_inclusive(dte: int) -> None:
    assert choose_expiry(days(dte), TODAY, 45, 40, 60) == TODAY + timedelta(dte)


def test_choose_expiry_outside_window_is_none() -> None:
    assert choose_expiry(days(0, 39, 61, 90), TODAY, 45, 40, 60) is None


def test_choose_expiry_of_nothing_is_none() -> None:
    assert choose_expiry([], TODAY, 45, 40, 60) is None


def test_choose_expiry_prefers_inside_window_over_nearer_outside() -> None:
    # 39 DTE is nearer 45 than 58 DTE but is outside [40, 60].
    assert choose_expiry(days(39, 58), TODAY, 45, 40, 60) == TODAY + timedelta(58)


def test_choose_expiry_accepts_a_generator_and_duplicates() -> None:
    listed = (e for e in days(52, 52, 38))
    assert choose_expiry(listed, TODAY, 45, 40, 60) == TODAY + timedelta(52)


# --------------------------------------------------------------------------------------------
# Strikes by delta
# --------------------------------------------------------------------------------------------


def test_nearest_delta_picks_nearest_absolute_delta_of_puts() -> None:
    quotes = [put(4700, -0.05), put(4800, -0.155), put(4825, -0.18), put(4900, -0.3)]
    chosen = nearest_delta(quotes, 0.16)
    assert chosen is not None and chosen.contract.strike == 4800


def test_nearest_delta_picks_nearest_delta_of_calls() -> None:
    quotes = [call(5150, 0.19), call(5175, 0.171), call(5200, 0.152), call(5300, 0.05)]
    chosen = nearest_delta(quotes, 0.16)
    assert chosen is not None and chosen.contract.strike == 5200


@pytest.mark.parametrize(
    "spoil",
    [
        with_nan_greeks,
        lambda q: with_market(q, 0.0, 0.0),  # no market
        lambda q: with_market(q, 1.0, math.nan),  # no ask
        lambda q: with_market(q, math.nan, 1.5),  # no bid
        lambda q: with_market(q, -0.05, 1.5),  # negative bid
        lambda q: with_market(q, 1.6, 1.5),  # crossed
    ],
    ids=["nan-greeks", "zero-ask", "nan-ask", "nan-bid", "negative-bid", "crossed"],
)
def test_nearest_delta_ignores_problem_quotes(spoil: Callable[[OptionQuote], OptionQuote]) -> None:
    best = put(4800, -0.16)
    quotes = [put(4825, -0.18), spoil(best), put(4775, -0.135)]
    chosen = nearest_delta(quotes, 0.16)
    assert chosen is not None and chosen.contract.strike == 4825


def test_nearest_delta_zero_bid_quote_is_usable() -> None:
    quotes = [put(4825, -0.18), with_market(put(4800, -0.16), 0.0, 0.5)]
    chosen = nearest_delta(quotes, 0.16)
    assert chosen is not None and chosen.contract.strike == 4800


def test_nearest_delta_nan_delta_alone_is_a_problem() -> None:
    quote = put(4800, -0.16)
    quote = option_quote(quote.contract, 1.0, 1.5, math.nan)
    assert nearest_delta([quote, put(4700, -0.05)], 0.16) == put(4700, -0.05)


@pytest.mark.parametrize("order", [1, -1])
def test_nearest_delta_tie_goes_to_the_smaller_delta(order: int) -> None:
    # |0.125 - 0.25| == |0.375 - 0.25| exactly in binary: a true tie.
    quotes = [put(4700, -0.125), put(4900, -0.375)][::order]
    chosen = nearest_delta(quotes, 0.25)
    assert chosen is not None and chosen.contract.strike == 4700


@pytest.mark.parametrize("order", [1, -1])
def test_nearest_delta_call_tie_goes_further_otm(order: int) -> None:
    quotes = [call(5100, 0.375), call(5300, 0.125)][::order]
    chosen = nearest_delta(quotes, 0.25)
    assert chosen is not None and chosen.contract.strike == 5300


def test_nearest_delta_decimal_tie_at_wing_target_goes_further_otm() -> None:
    quotes = [put(4675, -0.04), put(4700, -0.06)]
    chosen = nearest_delta(quotes, 0.05)
    assert chosen is not None and chosen.contract.strike == 4675


def test_nearest_delta_without_usable_quotes_is_none() -> None:
    assert nearest_delta([], 0.16) is None
    assert nearest_delta([with_nan_greeks(put(4800, -0.16))], 0.16) is None


def test_nearest_delta_accepts_a_generator() -> None:
    quotes = (q for q in [put(4700, -0.05), put(4800, -0.16)])
    chosen = nearest_delta(quotes, 0.05)
    assert chosen is not None and chosen.contract.strike == 4700


# --------------------------------------------------------------------------------------------
# Sizing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_loss", "nlv", "pct", "units"),
    [
        (8_500.0, 1_000_000.0, 0.02, 2),  # 2.35 floors to 2
        (10_000.0, 1_000_000.0, 0.02, 2),  # exactly 2
        (9_999.0, 1_000_000.0, 0.02, 2),  # 2.0002
        (10_001.0, 1_000_000.0, 0.02, 1),  # 1.9998
        (20_000.0, 1_000_000.0, 0.02, 1),  # exactly 1
        (20_001.0, 1_000_000.0, 0.02, 0),  # just over the budget
        (850.0, 1_000_000.0, 0.02, 23),
        (8_500.0, 1_000_000.0, 0.05, 5),
    ],
)
def test_units_within_risk_floors(max_loss: float, nlv: float, pct: float, units: int) -> None:
    assert units_within_risk(max_loss, nlv, pct) == units


def test_units_within_risk_exact_multiple_survives_float_rounding() -> None:
    max_loss = (5 - 2.8) * 100  # 220.00000000000003
    assert 33_000 * 0.02 / max_loss < 3
    assert units_within_risk(max_loss, 33_000.0, 0.02) == 3


@pytest.mark.parametrize(
    ("max_loss", "nlv"),
    [
        (0.0, 1_000_000.0),
        (-100.0, 1_000_000.0),
        (8_500.0, 0.0),
        (8_500.0, -50_000.0),
        (math.nan, 1_000_000.0),
        (8_500.0, math.nan),
        (math.inf, 1_000_000.0),
    ],
)
def test_units_within_risk_zero_for_non_positive_or_non_finite(max_loss: float, nlv: float) -> None:
    assert units_within_risk(max_loss, nlv, 0.02) == 0
