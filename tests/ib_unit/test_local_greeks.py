"""Local greeks: the simulator's pricing applied to IB quotes that came without model greeks."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.calendar import NY
from broker.contracts import SPX, FutureContract, OptionContract, Right
from broker.ib import ib_api, local_greeks, mapping
from broker.market import Greeks, OptionQuote, Quote
from broker.pricing import black76_greeks, black76_price, bs_greeks, bs_price
from broker.settlement import settlement_time

NOW = datetime(2025, 5, 6, 11, 0, tzinfo=NY)
RATE, DIV = 0.04, 0.013
SPXW_PUT = OptionContract("SPX", "SPXW", date(2025, 6, 20), 5400.0, Right.PUT)
VIX_CALL = OptionContract("VIX", "VIX", date(2025, 6, 18), 25.0, Right.CALL, exchange="CBOE")
NAN_GREEKS = Greeks(math.nan, math.nan, math.nan, math.nan, math.nan)


def _spx_price(contract: OptionContract, spot: float, vol: float) -> float:
    t = local_greeks.years_to_settlement([contract], NOW)[0]
    call = contract.right is Right.CALL
    return float(bs_price(spot, contract.strike, t, RATE, DIV, vol, call))


def _ticker(contract: OptionContract, mid: float, greeks: object = None) -> ib_api.Ticker:
    """Return a ticker as the library fills it (its fields are set after construction)."""
    ticker = ib_api.Ticker(contract=mapping.ib_contract(contract))
    ticker.bid, ticker.ask = mid - 0.05, mid + 0.05
    ticker.bidSize, ticker.askSize = 10.0, 12.0
    ticker.modelGreeks = greeks  # type: ignore[assignment]
    return ticker


def test_settlement_instants_by_class() -> None:
    assert settlement_time(SPXW_PUT) == datetime(2025, 6, 20, 16, 0, tzinfo=NY)
    monthly = OptionContract("SPX", "SPX", date(2025, 6, 20), 5400.0, Right.PUT)
    assert settlement_time(monthly) == datetime(2025, 6, 20, 9, 30, tzinfo=NY)
    assert settlement_time(VIX_CALL) == datetime(2025, 6, 18, 9, 30, tzinfo=NY)


def test_time_to_settlement_is_in_365_day_years_and_never_negative() -> None:
    after = datetime(2025, 6, 21, 10, 0, tzinfo=NY)
    t = local_greeks.years_to_settlement([SPXW_PUT], NOW)[0]
    assert t == pytest.approx((datetime(2025, 6, 20, 16, tzinfo=NY) - NOW).days / 365, abs=1e-3)
    assert local_greeks.years_to_settlement([SPXW_PUT], after)[0] == 0.0


def test_the_underlying_is_the_index_for_spx_and_the_same_expiry_future_for_vix() -> None:
    assert local_greeks.underlying_of(SPXW_PUT) == SPX
    assert local_greeks.underlying_of(VIX_CALL) == FutureContract("VIX", "VX", date(2025, 6, 18))
    assert (
        local_greeks.underlying_of(OptionContract("NDX", "NDX", date(2025, 6, 20), 1.0, Right.PUT))
        is None
    )


def test_ticker_with_nan_model_greeks_gets_black_scholes_greeks_from_its_mid() -> None:
    spot, vol = 5600.0, 0.21
    mid = _spx_price(SPXW_PUT, spot, vol)
    nan_greeks = ib_api.OptionComputation(
        0, math.nan, math.nan, None, None, math.nan, math.nan, math.nan, math.nan
    )
    quote = mapping.option_quote(SPXW_PUT, _ticker(SPXW_PUT, mid, nan_greeks), NOW)
    assert not quote.greeks.is_finite()
    [filled] = local_greeks.fill_missing_greeks([quote], {SPX.key: spot}, NOW, RATE, DIV)
    t = local_greeks.years_to_settlement([SPXW_PUT], NOW)[0]
    want = bs_greeks(spot, SPXW_PUT.strike, t, RATE, DIV, vol, False)
    got = filled.greeks
    assert got.iv == pytest.approx(vol, abs=1e-6)
    for name in ("delta", "gamma", "vega", "theta"):
        assert getattr(got, name) == pytest.approx(float(getattr(want, name)), abs=1e-6), name
    assert filled.underlying_price == spot and filled.problem() is None


def test_vix_option_greeks_are_black_76_on_the_future_of_its_expiry() -> None:
    forward, vol = 21.4, 0.95
    t = local_greeks.years_to_settlement([VIX_CALL], NOW)[0]
    mid = float(black76_price(forward, VIX_CALL.strike, t, RATE, vol, True))
    quote = mapping.option_quote(VIX_CALL, _ticker(VIX_CALL, mid), NOW)  # no modelGreeks at all
    future_key = FutureContract("VIX", "VX", VIX_CALL.expiry).key
    [filled] = local_greeks.fill_missing_greeks([quote], {future_key: forward}, NOW, RATE, DIV)
    want = black76_greeks(forward, VIX_CALL.strike, t, RATE, vol, True)
    assert filled.greeks.iv == pytest.approx(vol, abs=1e-6)
    assert filled.greeks.delta == pytest.approx(float(want.delta), abs=1e-6)
    assert filled.greeks.vega == pytest.approx(float(want.vega), abs=1e-6)
    assert filled.underlying_price == forward


def test_ib_underlying_price_is_preferred_over_the_fetched_one() -> None:
    spot, vol = 5550.0, 0.19
    mid = _spx_price(SPXW_PUT, spot, vol)
    partial = ib_api.OptionComputation(0, None, None, None, None, None, None, None, spot)
    quote = mapping.option_quote(SPXW_PUT, _ticker(SPXW_PUT, mid, partial), NOW)
    [filled] = local_greeks.fill_missing_greeks([quote], {SPX.key: 9999.0}, NOW, RATE, DIV)
    assert filled.underlying_price == spot
    assert filled.greeks.iv == pytest.approx(vol, abs=1e-6)


def test_ib_greeks_are_kept_when_complete() -> None:
    model = ib_api.OptionComputation(0, 0.2, -0.3, 10.0, 0.0, 0.001, 5.0, -1.5, 5600.0)
    quote = mapping.option_quote(SPXW_PUT, _ticker(SPXW_PUT, 10.0, model), NOW)
    [same] = local_greeks.fill_missing_greeks([quote], {}, NOW, RATE, DIV)
    assert same is quote


def test_no_local_greeks_from_a_bad_book_or_without_an_underlying() -> None:
    crossed = OptionQuote(Quote(SPXW_PUT, 5.0, 4.0, math.nan, NOW), NAN_GREEKS, math.nan)
    sane = OptionQuote(Quote(SPXW_PUT, 4.0, 5.0, math.nan, NOW), NAN_GREEKS, math.nan)
    out = local_greeks.fill_missing_greeks([crossed, sane], {}, NOW, RATE, DIV)
    assert not out[0].greeks.is_finite() and out[0].problem() is not None
    assert not out[1].greeks.is_finite() and math.isnan(out[1].underlying_price)


def test_unsupported_classes_get_nan_greeks() -> None:
    ndx = OptionContract("NDX", "NDX", date(2025, 6, 20), 20000.0, Right.CALL)
    [g] = local_greeks.greeks_from_mid([ndx], [50.0], [20000.0], NOW, RATE, DIV)
    assert not g.is_finite()


@settings(max_examples=60, deadline=None)
@given(
    moneyness=st.floats(0.85, 1.1),
    vol=st.floats(0.08, 0.8),
    days=st.integers(5, 200),
    call=st.booleans(),
)
def test_local_greeks_recover_the_vol_that_priced_the_mid(
    moneyness: float, vol: float, days: int, call: bool
) -> None:
    spot = 5000.0
    strike = round(spot * moneyness / 5) * 5
    expiry = date.fromordinal(NOW.date().toordinal() + days)
    contract = OptionContract("SPX", "SPXW", expiry, strike, Right.CALL if call else Right.PUT)
    mid = _spx_price(contract, spot, vol)
    [g] = local_greeks.greeks_from_mid([contract], [mid], [spot], NOW, RATE, DIV)
    out_of_the_money = strike >= spot if call else strike <= spot
    if out_of_the_money and mid > 0.01:  # deep ITM may be NaN: its price cannot pin the vol
        assert math.isfinite(g.iv)
    if math.isfinite(g.iv):
        assert g.iv == pytest.approx(vol, abs=1e-6)
        assert np.sign(g.delta) == (1 if call else -1)
