"""The sizing scenario: both engines repriced under one instant stress with `broker.pricing`.

The shock (DESIGN.md section 2, "Sizing by scenario"): SPX moves `spx_move_pct` (-4 %) and the
VIX rises `vix_points_per_pct x 100 x |spx_move_pct|` points (1.5 x 4 = +6.0), instantly: the
time to expiry of every leg stays what it is now. Modeling choices:

- SPX options: Black-Scholes at spot x (1 + move), with the quote's implied vol shifted by the
  VIX rise in vol points (a parallel shift: +6.0 VIX points = +0.06 vol on every strike), the
  rate and dividend yield of `ScenarioParams`. The spot is the quote's `underlying_price`.
- VIX futures: F + rise x exp(-vix_reversion_per_year x T). The VIX mean-reverts, so a future T
  years out moves less than the spot index (2.5 per year: a 3-month future moves 54 % of it).
- VIX options: Black-76 on the future of their expiry (`underlying_price`) shifted as that
  future, implied vol unchanged, discounted at the scenario's rate.
- P&L is model minus model: the shocked model price minus the model price at today's inputs
  (same iv, underlying and time), not minus the mid, so the bid/ask spread and any gap between
  the quote and its model price do not enter: the figure measures the shock alone.
- Time to expiry runs from the quote's time to settlement, in years of 365 days (the
  simulator's convention): 16:00 ET on the expiry day for PM-settled SPXW (early closes are
  ignored: at most 2 h 45 min, a few times a year), 09:30 ET for AM-settled SPX monthlies and
  for VIX futures and options (the special opening quotation on the expiry morning).
- Dollars use each leg's own contract multiplier (100 for options, 1000 for VIX futures).
- A leg without a quote, or an option quote without a finite positive implied vol and
  underlying price, makes the P&L of its set of legs unknown (None, with the reason): no
  number is ever built on NaN. A future needs only its quote to exist (its move does not
  depend on its price).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from broker.contracts import OptionContract, Right
from broker.market import FutureQuote, LegQuote, MarketSnapshot
from broker.orders import Leg
from broker.pricing import black76_price, bs_price
from broker.settlement import years_to_settlement
from broker.structures import Engine, Structure
from strategies.params import ScenarioParams, StrategyParams

FloatArray = npt.NDArray[np.float64]

NY = ZoneInfo("America/New_York")
VIX_SYMBOL = "VIX"


@dataclass(frozen=True, slots=True)
class Shock:
    """The stress: SPX moves `spx_move` (a fraction), the VIX rises `vix_rise` points."""

    spx_move: float
    vix_rise: float
    reversion_per_year: float
    rate: float
    dividend_yield: float

    @classmethod
    def from_params(cls, params: ScenarioParams) -> Shock:
        rise = params.vix_points_per_pct * 100.0 * abs(params.spx_move_pct)
        return cls(
            spx_move=params.spx_move_pct,
            vix_rise=rise,
            reversion_per_year=params.vix_reversion_per_year,
            rate=params.rate,
            dividend_yield=params.dividend_yield,
        )

    def future_shift(self, years: npt.ArrayLike) -> FloatArray:
        """Return the points a VIX future `years` from settlement rises by."""
        t = np.asarray(years, dtype=np.float64)
        return np.asarray(self.vix_rise * np.exp(-self.reversion_per_year * t), dtype=np.float64)

    def __str__(self) -> str:
        return f"SPX {self.spx_move:+.1%}, VIX {self.vix_rise:+.1f} pts"


@dataclass(frozen=True, slots=True)
class ScenarioPnl:
    """The scenario P&L in USD, or None with the reason it cannot be computed."""

    usd: float | None
    problem: str | None = None

    @property
    def known(self) -> bool:
        return self.usd is not None


@dataclass(frozen=True, slots=True)
class BookScenario:
    """Scenario P&L of each structure (by id) and of each engine's book.

    `by_engine` holds every engine whose structures all repriced (0.0 when it holds none);
    an engine with an unknown structure is absent from it and listed in `problems`.
    """

    shock: Shock
    by_structure: Mapping[int, ScenarioPnl] = field(default_factory=dict)
    by_engine: Mapping[Engine, float] = field(default_factory=dict)
    problems: Mapping[Engine, tuple[str, ...]] = field(default_factory=dict)

    def engine_pnl(self, engine: Engine) -> float | None:
        """Return the engine's book P&L in USD, or None when a structure could not reprice."""
        return self.by_engine.get(engine)


@dataclass(slots=True)
class _Group:
    """A builder: inputs of one pricing model, one row per option leg, then priced at once."""

    rows: list[int] = field(default_factory=list)
    underlying: list[float] = field(default_factory=list)
    strike: list[float] = field(default_factory=list)
    years: list[float] = field(default_factory=list)
    vol: list[float] = field(default_factory=list)
    is_call: list[bool] = field(default_factory=list)

    def add(
        self, row: int, quote_underlying: float, contract: OptionContract, years: float, vol: float
    ) -> None:
        self.rows.append(row)
        self.underlying.append(quote_underlying)
        self.strike.append(contract.strike)
        self.years.append(years)
        self.vol.append(vol)
        self.is_call.append(contract.right is Right.CALL)


def leg_point_pnls(
    legs: Sequence[Leg],
    quotes: Mapping[str, LegQuote],
    shock: Shock,
    at: datetime | None = None,
) -> tuple[FloatArray, list[str]]:
    """Return each leg's scenario P&L per contract in price points (NaN where unknown) and
    the problems that made any of them unknown. Signs and multipliers are not applied.

    Times to expiry run from `at`, or from each quote's own time when `at` is None.
    """
    pnl, issues = _leg_points(legs, quotes, shock, at)
    return pnl, [issue for issue in issues if issue is not None]


def _leg_points(
    legs: Sequence[Leg], quotes: Mapping[str, LegQuote], shock: Shock, at: datetime | None
) -> tuple[FloatArray, list[str | None]]:
    """Return per-leg point P&L and per-leg problem (None where the leg repriced)."""
    pnl = np.full(len(legs), np.nan)
    issues: list[str | None] = [None] * len(legs)
    spx, vix = _Group(), _Group()
    future_rows: list[int] = []
    future_years: list[float] = []
    for row, leg in enumerate(legs):
        key = leg.contract.key
        quote = quotes.get(key)
        if quote is None:
            issues[row] = f"no quote for {key}"
            continue
        years = years_to_settlement(leg.contract, at or quote.quote.time)
        if isinstance(quote, FutureQuote):
            future_rows.append(row)
            future_years.append(years)
            continue
        iv, underlying = quote.greeks.iv, quote.underlying_price
        if not (math.isfinite(iv) and iv > 0):
            issues[row] = f"no implied vol for {key} (iv {iv})"
        elif not (math.isfinite(underlying) and underlying > 0):
            issues[row] = f"no underlying price for {key} ({underlying})"
        else:
            contract = quote.contract
            group = vix if contract.symbol == VIX_SYMBOL else spx
            group.add(row, underlying, contract, years, iv)
    if future_rows:
        pnl[future_rows] = shock.future_shift(future_years)
    if spx.rows:
        pnl[spx.rows] = _spx_pnl(spx, shock)
    if vix.rows:
        pnl[vix.rows] = _vix_option_pnl(vix, shock)
    return pnl, issues


def _spx_pnl(group: _Group, shock: Shock) -> FloatArray:
    """Black-Scholes now and shocked, priced in one vectorized call."""
    n = len(group.rows)
    spot = np.asarray(group.underlying)
    vol = np.asarray(group.vol)
    prices = bs_price(
        np.concatenate([spot, spot * (1.0 + shock.spx_move)]),
        np.tile(group.strike, 2),
        np.tile(group.years, 2),
        shock.rate,
        shock.dividend_yield,
        np.concatenate([vol, vol + shock.vix_rise / 100.0]),
        np.tile(group.is_call, 2),
    )
    return prices[n:] - prices[:n]


def _vix_option_pnl(group: _Group, shock: Shock) -> FloatArray:
    """Black-76 on the future now and on the shocked future, in one vectorized call."""
    n = len(group.rows)
    forward = np.asarray(group.underlying)
    shifted = forward + shock.future_shift(group.years)
    prices = black76_price(
        np.concatenate([forward, shifted]),
        np.tile(group.strike, 2),
        np.tile(group.years, 2),
        shock.rate,
        np.tile(group.vol, 2),
        np.tile(group.is_call, 2),
    )
    return prices[n:] - prices[:n]


def _leg_weights(legs: Sequence[Leg]) -> FloatArray:
    """Return signed contracts x multiplier per leg and unit."""
    return np.array([leg.signed_ratio * leg.contract.multiplier for leg in legs], dtype=np.float64)


def legs_scenario_pnl(
    legs: Sequence[Leg],
    quantity: int,
    quotes: Mapping[str, LegQuote],
    shock: Shock,
    at: datetime | None = None,
) -> ScenarioPnl:
    """Return the scenario P&L in USD of `quantity` units of `legs` (each leg per unit)."""
    points, problems = leg_point_pnls(legs, quotes, shock, at)
    if problems:
        return ScenarioPnl(None, "; ".join(problems))
    return ScenarioPnl(float(_leg_weights(legs) @ points) * quantity)


def unit_scenario_pnl(
    legs: Sequence[Leg], quotes: Mapping[str, LegQuote], shock: Shock
) -> ScenarioPnl:
    """Return the scenario P&L in USD of one unit of a candidate structure."""
    return legs_scenario_pnl(legs, 1, quotes, shock)


def structure_scenario_pnl(
    structure: Structure, quotes: Mapping[str, LegQuote], shock: Shock
) -> ScenarioPnl:
    """Return the scenario P&L in USD of a held structure (all its units)."""
    return legs_scenario_pnl(structure.legs, structure.quantity, quotes, shock)


def book_scenario(
    structures: Iterable[Structure],
    quotes: Mapping[str, LegQuote],
    shock: Shock,
    at: datetime | None = None,
) -> BookScenario:
    """Return the scenario P&L of every structure and engine, all legs priced in one pass."""
    held = tuple(structures)
    legs = [leg for s in held for leg in s.legs]
    points, issues = _leg_points(legs, quotes, shock, at)
    dollars = _leg_weights(legs) * points
    by_structure: dict[int, ScenarioPnl] = {}
    totals: dict[Engine, float] = {engine: 0.0 for engine in Engine}
    problems: dict[Engine, list[str]] = {}
    start = 0
    for structure in held:
        stop = start + len(structure.legs)
        leg_issues = [issue for issue in issues[start:stop] if issue is not None]
        if leg_issues:
            pnl = ScenarioPnl(None, "; ".join(leg_issues))
            problems.setdefault(structure.engine, []).append(
                f"{structure.kind.value} #{structure.id}: {pnl.problem}"
            )
        else:
            usd = float(dollars[start:stop].sum()) * structure.quantity
            pnl = ScenarioPnl(usd)
            totals[structure.engine] += usd
        by_structure[structure.id] = pnl
        start = stop
    return BookScenario(
        shock=shock,
        by_structure=by_structure,
        by_engine={e: v for e, v in totals.items() if e not in problems},
        problems={e: tuple(p) for e, p in problems.items()},
    )


def book_scenario_pnl(
    structures: Iterable[Structure],
    snapshot: MarketSnapshot,
    params: StrategyParams,
    now: datetime | None = None,
) -> dict[Engine, float]:
    """Return each engine's book P&L in USD under the configured shock, repriced at `now`
    (each quote's time when None); an engine with a structure that cannot reprice is absent."""
    shock = Shock.from_params(params.scenario)
    return dict(book_scenario(structures, snapshot.leg_quotes, shock, now).by_engine)
