"""What every part of the VIX layer decides on: the market, the book and the hedge target.

The target offset is effective k x the condor book's loss in the sizing scenario (USD, 0 when
the condors gain or there are none); each part carries a share of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from broker.market import LegQuote, MarketSnapshot
from broker.structures import Engine, Structure, StructureKind
from strategies.decision import PortfolioState
from strategies.hedge_rules import effective_k, effective_k_text
from strategies.params import StrategyParams
from strategies.scenario import NY, Shock, book_scenario


@dataclass(frozen=True, slots=True)
class HedgeTarget:
    """The USD the layer should gain in the scenario, and how it was reached."""

    condor_pnl: float  # the condor book's scenario P&L (negative: a loss)
    k: float
    k_text: str
    shock: Shock

    @property
    def condor_loss(self) -> float:
        return max(0.0, -self.condor_pnl)

    @property
    def offset(self) -> float:
        return self.k * self.condor_loss

    def __str__(self) -> str:
        return (
            f"target ${self.offset:,.0f} = {self.k_text} x condor loss "
            f"${self.condor_loss:,.0f} in {self.shock}"
        )


@dataclass(frozen=True, slots=True)
class HedgeContext:
    """The inputs of one VIX layer decision; `quotes` merges held legs, chains and futures."""

    snapshot: MarketSnapshot
    state: PortfolioState
    params: StrategyParams
    today: date
    quotes: Mapping[str, LegQuote]
    shock: Shock

    def held(self, *kinds: StructureKind) -> tuple[Structure, ...]:
        """Return the VIX structures of these kinds, nearest expiry first."""
        found = [s for s in self.state.open_of(Engine.VIX) if s.kind in kinds]
        return tuple(
            sorted(found, key=lambda s: (min(leg.contract.expiry for leg in s.legs), s.id))
        )


def market_quotes(snapshot: MarketSnapshot) -> dict[str, LegQuote]:
    """Return every quote of the snapshot by contract key: held legs, VIX chains, futures."""
    quotes: dict[str, LegQuote] = {}
    for chain in snapshot.vix_chains.values():
        quotes.update((q.contract.key, q) for q in chain.quotes)
    quotes.update((f.contract.key, f) for f in snapshot.futures)
    quotes.update(snapshot.leg_quotes)
    return quotes


def hedge_context(
    snapshot: MarketSnapshot, state: PortfolioState, params: StrategyParams, now: datetime
) -> HedgeContext:
    """Return the context of a VIX layer decision at `now`."""
    return HedgeContext(
        snapshot=snapshot,
        state=state,
        params=params,
        today=now.astimezone(NY).date(),
        quotes=market_quotes(snapshot),
        shock=Shock.from_params(params.scenario),
    )


def hedge_target(ctx: HedgeContext) -> HedgeTarget | str:
    """Return the hedge target, or why the condor book cannot be repriced."""
    book = book_scenario(ctx.state.open_of(Engine.CONDOR), ctx.snapshot.leg_quotes, ctx.shock)
    condor_pnl = book.engine_pnl(Engine.CONDOR)
    if condor_pnl is None:
        issues = "; ".join(book.problems.get(Engine.CONDOR, ()))
        return f"the condor book cannot be repriced in the scenario: {issues}"
    hedge = ctx.state.hedge
    return HedgeTarget(
        condor_pnl=condor_pnl,
        k=effective_k(hedge, ctx.params.hedge),
        k_text=effective_k_text(hedge, ctx.params.hedge),
        shock=ctx.shock,
    )
