"""Risk checks every intent passes before it reaches a broker. Each returns a reason or None."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from broker.account import MarginImpact
from broker.contracts import FutureContract, OptionContract
from broker.orders import Leg
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies.decision import PortfolioState
from strategies.params import RiskLimits, StrategyParams


def book_after(structures: Iterable[Structure], intent: Intent) -> dict[str, int]:
    """Return the signed contract count per contract key after `intent` fills."""
    book: dict[str, int] = defaultdict(int)
    for structure in structures:
        for leg in structure.legs:
            book[leg.contract.key] += leg.signed_ratio * structure.quantity
    for leg in intent.legs:
        book[leg.contract.key] += leg.signed_ratio * intent.quantity
    return book


def naked_short_problem(structures: Iterable[Structure], intent: Intent) -> str | None:
    """Return why the book after `intent` would hold a naked short option or short future."""
    contracts = {leg.contract.key: leg.contract for leg in _all_legs(structures, intent)}
    book = book_after(structures, intent)
    by_series: dict[tuple[str, str, object, str], int] = defaultdict(int)
    for key, count in book.items():
        contract = contracts[key]
        if isinstance(contract, FutureContract) and count < 0:
            return f"would leave {-count} {key} short: short futures are not allowed"
        if isinstance(contract, OptionContract):
            series = (
                contract.symbol,
                contract.trading_class,
                contract.expiry,
                contract.right.value,
            )
            by_series[series] += count
    for (_symbol, trading_class, expiry, right), net in by_series.items():
        if net < 0:
            return (
                f"would leave {-net} {trading_class} {expiry} {right} options net short (naked): "
                "every short option needs a long one of the same class, expiry and right"
            )
    return None


def _all_legs(structures: Iterable[Structure], intent: Intent) -> list[Leg]:
    legs = [leg for s in structures for leg in s.legs]
    return legs + list(intent.legs)


def check_intent(
    intent: Intent,
    state: PortfolioState,
    params: StrategyParams,
    margin: MarginImpact | None,
) -> str | None:
    """Return why `intent` must not be sent, or None when it passes every check."""
    limits = params.risk
    for check in (
        _size_problem(intent, limits),
        _open_count_problem(intent, state, params),
        naked_short_problem(state.structures, intent),
        _liquidity_problem(intent, margin, limits),
    ):
        if check is not None:
            return check
    return None


def _size_problem(intent: Intent, limits: RiskLimits) -> str | None:
    if intent.quantity <= 0:
        return f"quantity {intent.quantity} is not positive"
    if not intent.legs:
        return "the intent has no legs"
    largest = max(leg.ratio for leg in intent.legs) * intent.quantity
    if largest > limits.max_contracts_per_order:
        return f"{largest} contracts in one leg, the limit is {limits.max_contracts_per_order}"
    return None


def _open_count_problem(
    intent: Intent, state: PortfolioState, params: StrategyParams
) -> str | None:
    if intent.kind is not IntentKind.OPEN or intent.structure_kind is not StructureKind.IRON_CONDOR:
        return None
    open_now = len(state.open_of(Engine.CONDOR))
    if open_now >= params.condor.max_open:
        return f"{open_now} condors open, the limit is {params.condor.max_open}"
    return None


def _liquidity_problem(
    intent: Intent, margin: MarginImpact | None, limits: RiskLimits
) -> str | None:
    if intent.kind is IntentKind.CLOSE:
        return None  # closing only frees margin
    if margin is None:
        return "no what-if margin from the venue: cannot check excess liquidity"
    floor = limits.min_excess_liquidity_pct * margin.net_liquidation
    if margin.excess_liquidity_after < floor:
        return (
            f"excess liquidity after the trade ${margin.excess_liquidity_after:,.0f} is below "
            f"{limits.min_excess_liquidity_pct:.0%} of net liquidation (${floor:,.0f})"
        )
    return None
