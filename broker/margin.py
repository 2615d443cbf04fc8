"""Risk-based margin: the worst loss of option payoffs at expiry, plus futures initial margin.

For each (underlying, expiry) group the payoff at expiry is piecewise linear in the settlement
price, so its minimum lies at a strike, at zero, or is unbounded above (net short calls). So:
- a defined-risk spread needs width x multiplier x quantity (an iron condor: its wider side);
  the credit received is already in cash, so the buying power it uses is the width less the
  credit, as at IB;
- a long option needs nothing beyond its premium (paid in cash);
- a net short call is charged NAKED_CALL_RATE of its underlying (the strategy never holds one);
- a VIX future, long or short, needs the configured initial margin per contract.
The underlying of a VIX option group is the VIX future of the same expiry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date

from broker.contracts import FutureContract, OptionContract, Right, TradableContract

NAKED_CALL_RATE = 0.20  # share of the underlying charged per net short call (Reg-T like)

UnderlyingPrice = Callable[[str, date], float]


def portfolio_margin(
    holdings: Iterable[tuple[TradableContract, int]],
    underlying_price: UnderlyingPrice,
    future_initial_margin: float = 0.0,
) -> float:
    """Return the margin of signed holdings: worst payoff loss per expiry group, plus futures.

    `underlying_price(symbol, expiry)` prices the underlying of an option group; it is only
    called for groups that are net short calls.
    """
    groups: dict[tuple[str, date], list[tuple[OptionContract, int]]] = defaultdict(list)
    total = 0.0
    for contract, quantity in holdings:
        if isinstance(contract, FutureContract):
            total += abs(quantity) * future_initial_margin
        elif quantity:
            groups[(contract.symbol, contract.expiry)].append((contract, quantity))
    for (symbol, expiry), options in groups.items():
        total += _worst_payoff_loss(options, underlying_price, symbol, expiry)
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


def _worst_payoff_loss(
    options: list[tuple[OptionContract, int]],
    underlying_price: UnderlyingPrice,
    symbol: str,
    expiry: date,
) -> float:
    net_calls = sum(q * c.multiplier for c, q in options if c.right is Right.CALL)
    points = {0.0} | {c.strike for c, _ in options}
    worst = min(_payoff(options, p) for p in points)
    loss = max(0.0, -worst)
    if net_calls < 0:  # unbounded above: a conventional charge on the naked calls
        loss += -net_calls * NAKED_CALL_RATE * underlying_price(symbol, expiry)
    return loss
