"""Risk-based margin of option positions: the worst loss of their payoff at expiry.

For each (underlying, expiry) group the payoff at expiry is piecewise linear in the settlement
price, so its minimum lies at a strike, at zero, or is unbounded above (net short calls). A
defined-risk spread thus needs its width x multiplier x quantity, a long option nothing
beyond its premium, and a naked short call a large conventional charge. Premiums are in cash
already, so margin here is the payoff's worst case only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from broker.contracts import FutureContract, OptionContract, Right, TradableContract

NAKED_CALL_RATE = 0.20  # share of the underlying charged per net short call (Reg-T like)


def option_margin(
    holdings: Iterable[tuple[TradableContract, int]],
    underlying_prices: dict[str, float],
    future_initial_margin: float = 0.0,
) -> float:
    """Return the margin of signed holdings: worst payoff loss per expiry group, plus futures."""
    groups: dict[tuple[str, date], list[tuple[OptionContract, int]]] = defaultdict(list)
    futures = 0.0
    for contract, quantity in holdings:
        if isinstance(contract, FutureContract):
            futures += abs(quantity) * future_initial_margin
        elif quantity:
            groups[(contract.symbol, contract.expiry)].append((contract, quantity))
    total = futures
    for (symbol, _expiry), options in groups.items():
        total += _worst_payoff_loss(options, underlying_prices.get(symbol, 0.0))
    return total


def _payoff(options: list[tuple[OptionContract, int]], settle: float) -> float:
    value = 0.0
    for contract, quantity in options:
        if contract.right is Right.CALL:
            intrinsic = max(0.0, settle - contract.strike)
        else:
            intrinsic = max(0.0, contract.strike - settle)
        value += quantity * contract.multiplier * intrinsic
    return value


def _worst_payoff_loss(options: list[tuple[OptionContract, int]], underlying: float) -> float:
    net_calls = sum(q * c.multiplier for c, q in options if c.right is Right.CALL)
    points = {0.0} | {c.strike for c, _ in options}
    worst = min(_payoff(options, p) for p in points)
    loss = max(0.0, -worst)
    if net_calls < 0:  # unbounded above: a conventional charge on the naked calls
        loss += -net_calls * NAKED_CALL_RATE * underlying
    return loss
