"""Position greeks of a combo: signed by side, scaled by ratio, quantity and multiplier."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from broker.calendar import NY
from broker.contracts import OptionContract, Right
from broker.market import Greeks, OptionQuote, Quote
from broker.orders import Leg, Side
from broker.structures import PositionGreeks
from strategies.pricing_of_legs import position_greeks

T = datetime(2024, 3, 4, 10, 0, tzinfo=NY)


def quote(strike: float, right: Right, delta: float, gamma: float, vega: float, theta: float):  # type: ignore[no-untyped-def]
    contract = OptionContract("SPX", "SPXW", date(2024, 4, 19), strike, right)
    return OptionQuote(
        Quote(contract, 1.0, 1.2, 1.1, T), Greeks(0.15, delta, gamma, vega, theta), 5000.0
    )


def test_a_short_condor_is_short_vega_and_gamma_and_long_theta() -> None:
    quotes = {
        q.contract.key: q
        for q in (
            quote(4700, Right.PUT, -0.16, 0.0010, 400.0, -180.0),
            quote(4600, Right.PUT, -0.05, 0.0004, 180.0, -90.0),
            quote(5300, Right.CALL, 0.16, 0.0011, 420.0, -170.0),
            quote(5400, Right.CALL, 0.05, 0.0005, 200.0, -80.0),
        )
    }
    keys = list(quotes)
    legs = (
        Leg(quotes[keys[0]].contract, Side.SELL),
        Leg(quotes[keys[1]].contract, Side.BUY),
        Leg(quotes[keys[2]].contract, Side.SELL),
        Leg(quotes[keys[3]].contract, Side.BUY),
    )
    g = position_greeks(legs, 3, 100, quotes)
    scale = 3 * 100
    assert g.delta == pytest.approx(scale * (0.16 - 0.05 - 0.16 + 0.05))
    assert g.gamma == pytest.approx(scale * (-0.0010 + 0.0004 - 0.0011 + 0.0005))
    assert g.vega == pytest.approx(scale * (-400 + 180 - 420 + 200) / 100)  # per vol point
    assert g.theta == pytest.approx(scale * (180 - 90 + 170 - 80) / 365)  # per day
    assert g.vega < 0 < g.theta and g.gamma < 0


def test_ratio_legs_count_their_ratio_and_greeks_add() -> None:
    q1 = quote(20, Right.CALL, 0.5, 0.1, 3.0, -10.0)
    q2 = quote(30, Right.CALL, 0.2, 0.05, 2.0, -6.0)
    quotes = {q1.contract.key: q1, q2.contract.key: q2}
    legs = (Leg(q1.contract, Side.SELL, 1), Leg(q2.contract, Side.BUY, 2))
    g = position_greeks(legs, 1, 100, quotes)
    assert g.delta == pytest.approx(100 * (-0.5 + 2 * 0.2))
    total = g + PositionGreeks(1.0, 0.0, 2.0, -3.0)
    assert (total.delta, total.vega, total.theta) == pytest.approx(
        (g.delta + 1.0, g.vega + 2.0, g.theta - 3.0)
    )
    with pytest.raises(KeyError):
        position_greeks(legs, 1, 100, {q1.contract.key: q1})
