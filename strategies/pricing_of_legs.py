"""Net prices of combos from leg quotes, in the order convention (debit positive)."""

from __future__ import annotations

from collections.abc import Mapping

from broker.market import OptionQuote
from broker.orders import Leg


def net_mid(legs: tuple[Leg, ...], quotes: Mapping[str, OptionQuote]) -> float:
    """Return the combo's net mid per unit: what buying it costs at mid (credit negative)."""
    return sum(leg.signed_ratio * quotes[leg.contract.key].quote.mid for leg in legs)


def net_natural(legs: tuple[Leg, ...], quotes: Mapping[str, OptionQuote]) -> float:
    """Return the combo's natural price per unit: buy legs at the ask, sell legs at the bid."""
    total = 0.0
    for leg in legs:
        quote = quotes[leg.contract.key].quote
        total += leg.ratio * (quote.ask if leg.signed_ratio > 0 else -quote.bid)
    return total


def leg_problems(legs: tuple[Leg, ...], quotes: Mapping[str, OptionQuote]) -> list[str]:
    """Return why any leg cannot be priced now (missing, one-sided, crossed, NaN greeks)."""
    problems = []
    for leg in legs:
        quote = quotes.get(leg.contract.key)
        if quote is None:
            problems.append(f"no quote for {leg.contract.key}")
        elif (issue := quote.problem()) is not None:
            problems.append(issue)
    return problems
