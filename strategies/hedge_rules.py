"""The hedge's adaptive numbers: k from the R2 band, the backspread ratio, the yearly budget.

Rules (DESIGN.md section 2):
- k: when the rolling R2 of portfolio returns against SPX is above the band (r2_high), the
  portfolio moves too much with SPX and k is raised by k_step (x 1.10); below the band
  (r2_low) it is lowered (x 0.90); inside the band, or when R2 is unknown (NaN), k stays.
  k is always clamped into [k_min, k_max].
- The k the layer is sized with is k x divergence_k_scale while the breadth divergence flag
  is on, times the operator's hedge scale (`alvh set hedge-scale`). It is not clamped again:
  the scale and the operator's multiplier act on top of the band.
- The backspread ratio 1:N: a bearish SPX MACD crossover (-1) adds one long call per short,
  up to backspread_max_ratio; a bullish one (+1) removes one, down to backspread_base_ratio
  (a ratio already at or below the base stays); never below 1.
- Budget: the layer may spend budget_pct of net liquidation over a rolling year; what is left
  is that limit minus the year's net cost (which the bot supplies, credits netted).

These functions are applied by the bot once per rebalance day, before `decide_hedge`, and
their results journaled: applying them twice on the same signals would step twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

from strategies.hedge_state import HedgeState
from strategies.params import HedgeParams, VixLayerParams


class KStep(NamedTuple):
    """The hedge ratio k after one rebalance and why (unpacks as `k, reason`)."""

    k: float
    reason: str


class RatioStep(NamedTuple):
    """The backspread's N after one rebalance and why (unpacks as `ratio, reason`)."""

    ratio: int
    reason: str


def next_k(k: float, r2: float, params: HedgeParams) -> KStep:
    """Return k moved one step against an R2 outside [r2_low, r2_high], clamped to its bounds."""
    band = f"band {params.r2_low:.2f}-{params.r2_high:.2f}"
    if math.isnan(r2):
        raw, why = k, f"R2 unknown: k kept at {k:.3f}"
    elif r2 > params.r2_high:
        raw = k * (1 + params.k_step)
        why = f"R2 {r2:.2f} above the {band}: k {k:.3f} raised {params.k_step:.0%}"
    elif r2 < params.r2_low:
        raw = k * (1 - params.k_step)
        why = f"R2 {r2:.2f} below the {band}: k {k:.3f} lowered {params.k_step:.0%}"
    else:
        raw, why = k, f"R2 {r2:.2f} inside the {band}: k kept at {k:.3f}"
    new = min(max(raw, params.k_min), params.k_max)
    if new != raw:
        why += f" to {raw:.3f}, clamped into [{params.k_min:g}, {params.k_max:g}]"
    return KStep(new, f"{why} -> k {new:.3f}")


def effective_k(state: HedgeState, params: HedgeParams) -> float:
    """Return the k the layer is sized with: k x the breadth scale (when on) x hedge scale."""
    scale = params.divergence_k_scale if state.signals.breadth_divergence else 1.0
    return state.k * scale * state.hedge_scale


def effective_k_text(state: HedgeState, params: HedgeParams) -> str:
    """Return the effective k with how it was built, for reasons."""
    factors = []
    if state.signals.breadth_divergence:
        factors.append(f" x {params.divergence_k_scale:g} (breadth divergence)")
    if state.hedge_scale != 1.0:
        factors.append(f" x {state.hedge_scale:g} (hedge scale)")
    text = f"k {effective_k(state, params):.3f}"
    return text + (f" = {state.k:.3f}" + "".join(factors) if factors else "")


def next_ratio(ratio: int, crossover: int, params: VixLayerParams) -> RatioStep:
    """Return the backspread's N after an SPX MACD crossover (-1 bearish, +1 bullish, 0 none)."""
    if crossover < 0 and ratio < params.backspread_max_ratio:
        new, why = ratio + 1, "bearish SPX MACD crossover: one more long call"
    elif crossover < 0:
        new, why = ratio, f"bearish SPX MACD crossover, already at the 1:{ratio} maximum"
    elif crossover > 0 and ratio > params.backspread_base_ratio:
        new, why = ratio - 1, "bullish SPX MACD crossover: one long call fewer"
    elif crossover > 0:
        new, why = ratio, f"bullish SPX MACD crossover, already at the 1:{ratio} base"
    else:
        new, why = ratio, "no SPX MACD crossover"
    new = max(1, new)
    return RatioStep(new, f"{why} -> ratio 1:{new}")


def budget_limit(nlv: float, params: HedgeParams) -> float:
    """Return the USD the layer may cost over a rolling year."""
    return params.budget_pct * nlv


def budget_left(nlv: float, layer_cost_year: float, params: HedgeParams) -> float:
    """Return the USD the layer may still spend this rolling year (negative when overspent)."""
    return budget_limit(nlv, params) - layer_cost_year


@dataclass(frozen=True, slots=True)
class HedgeAdaptation:
    """The hedge state after the day's k and ratio steps, and the reasons of both."""

    state: HedgeState
    reasons: tuple[str, ...]


def adapt_hedge(state: HedgeState, hedge: HedgeParams, vix: VixLayerParams) -> HedgeAdaptation:
    """Return the state with k stepped on today's R2 and the ratio on today's SPX crossover."""
    k_step = next_k(state.k, state.signals.r2, hedge)
    ratio_step = next_ratio(state.ratio, state.signals.spx_crossover, vix)
    return HedgeAdaptation(
        replace(state, k=k_step.k, ratio=ratio_step.ratio), (k_step.reason, ratio_step.reason)
    )
