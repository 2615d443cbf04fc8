"""Risk checks every intent passes before it reaches a broker. Each returns a reason or None.

`check_intent` runs them in this order and reports the first that fails (DESIGN.md section 2,
"Risk limits"):
1. size: a positive quantity, legs, and at most `max_contracts_per_order` in any one leg;
2. open count: a new iron condor only below `max_open` condors (a ROLL replaces a condor: it
   neither opens nor closes one);
3. daily loss limit: once the day's P&L is at or below -`daily_loss_limit_pct` of net
   liquidation (or unknown), no condor is opened; closes, rolls and the VIX layer's trades go on,
   since they reduce risk;
4. VIX calls: neither the structure an OPEN or ROLL builds nor the book after any intent is net
   short VIX calls in any expiry (the backspread sells 1 call and buys N >= 1), whatever the
   trading class;
5. naked shorts: after the intent no option series (class, expiry, right) is net short and no
   future is short, across the whole book;
6. excess liquidity: every intent but a CLOSE needs the venue's what-if margin and must leave
   excess liquidity of at least `min_excess_liquidity_pct` of net liquidation.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from broker.account import MarginImpact
from broker.contracts import FutureContract, OptionContract, Right
from broker.orders import Leg
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies.decision import PortfolioState
from strategies.params import RiskLimits, StrategyParams, VixLayerParams


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
        daily_loss_problem(intent, state, limits),
        vix_calls_problem(state.structures, intent, params.vix),
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


def daily_loss_problem(intent: Intent, state: PortfolioState, limits: RiskLimits) -> str | None:
    """Return why `intent` opens a condor past the daily loss limit, or None."""
    if intent.kind is not IntentKind.OPEN or intent.engine is not Engine.CONDOR:
        return None
    day_pnl, nlv = state.hedge.day_pnl, state.account.net_liquidation
    if not (math.isfinite(day_pnl) and math.isfinite(nlv)):
        return (
            f"the day's P&L is unknown (P&L {_usd(day_pnl)}, net liquidation {_usd(nlv)}): "
            "no new condor"
        )
    limit = limits.daily_loss_limit_pct * nlv
    if day_pnl <= -limit:
        return (
            f"daily loss limit: the day's P&L {_usd(day_pnl)} is at or below "
            f"-{limits.daily_loss_limit_pct:.1%} of net liquidation ({_usd(-limit)}): "
            "no new condor today"
        )
    return None


def _usd(amount: float) -> str:
    if not math.isfinite(amount):
        return str(amount)
    return f"-${-amount:,.0f}" if amount < 0 else f"${amount:,.0f}"


def vix_calls_problem(
    structures: Iterable[Structure], intent: Intent, vix: VixLayerParams
) -> str | None:
    """Return why `intent` would leave VIX calls net short in some expiry, or None."""
    if intent.kind is not IntentKind.CLOSE:
        built = intent.result_legs if intent.kind is IntentKind.ROLL else intent.legs
        own = _net_calls(((leg, 1) for leg in built), vix.symbol)
        for expiry, net in sorted(own.items()):
            if net < 0:
                return (
                    f"the {intent.structure_kind} sells {-net} more VIX {expiry} calls than it "
                    "buys per unit: the VIX layer is never net short calls"
                )
    held = [(leg, s.quantity) for s in structures for leg in s.legs]
    after = _net_calls([*held, *((leg, intent.quantity) for leg in intent.legs)], vix.symbol)
    for expiry, net in sorted(after.items()):
        if net < 0:
            return (
                f"would leave the book net short {-net} VIX {expiry} calls: the VIX layer is "
                "never net short calls (a backspread buys at least as many calls as it sells)"
            )
    return None


def _net_calls(legs: Iterable[tuple[Leg, int]], symbol: str) -> dict[date, int]:
    """Return the signed count of `symbol` calls per expiry, over (leg, quantity) pairs."""
    net: dict[date, int] = defaultdict(int)
    for leg, quantity in legs:
        contract = leg.contract
        if (
            isinstance(contract, OptionContract)
            and contract.symbol == symbol
            and contract.right is Right.CALL
        ):
            net[contract.expiry] += leg.signed_ratio * quantity
    return net
