"""Net prices of combos from leg quotes, in the order convention (debit positive)."""

from __future__ import annotations

from collections.abc import Mapping

from broker.market import LegQuote
from broker.orders import Leg
from broker.structures import PositionGreeks

VOL_POINT = 0.01  # vega is quoted per 1.00 of vol
DAYS_PER_YEAR = 365.0  # theta is quoted per year


def net_mid(legs: tuple[Leg, ...], quotes: Mapping[str, LegQuote]) -> float:
    """Return the combo's net mid per unit: what buying it costs at mid (credit negative)."""
    return sum(leg.signed_ratio * quotes[leg.contract.key].quote.mid for leg in legs)


def net_natural(legs: tuple[Leg, ...], quotes: Mapping[str, LegQuote]) -> float:
    """Return the combo's natural price per unit: buy legs at the ask, sell legs at the bid."""
    total = 0.0
    for leg in legs:
        quote = quotes[leg.contract.key].quote
        total += leg.ratio * (quote.ask if leg.signed_ratio > 0 else -quote.bid)
    return total


def leg_problems(legs: tuple[Leg, ...], quotes: Mapping[str, LegQuote]) -> list[str]:
    """Return why any leg cannot be priced now (missing, one-sided, crossed, NaN greeks)."""
    problems = []
    for leg in legs:
        quote = quotes.get(leg.contract.key)
        if quote is None:
            problems.append(f"no quote for {leg.contract.key}")
        elif (issue := quote.problem()) is not None:
            problems.append(issue)
    return problems


def position_greeks(
    legs: tuple[Leg, ...], quantity: int, multiplier: int, quotes: Mapping[str, LegQuote]
) -> PositionGreeks:
    """Return the greeks of `quantity` units of `legs` (see PositionGreeks for the units).

    Legs must have usable quotes (check `leg_problems` first): a missing leg raises KeyError.
    """
    scale = quantity * multiplier
    delta = gamma = vega = theta = 0.0
    for leg in legs:
        g = quotes[leg.contract.key].greeks
        weight = leg.signed_ratio * scale
        delta += weight * g.delta
        gamma += weight * g.gamma
        vega += weight * g.vega * VOL_POINT
        theta += weight * g.theta / DAYS_PER_YEAR
    return PositionGreeks(delta, gamma, vega, theta)
