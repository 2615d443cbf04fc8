"""What the hedge decisions read besides the market: the signals of the day and the layer's state.

The bot computes `Signals` from daily bars (strategies/signals) and keeps `HedgeState` in the
journal between rebalances; both are plain frozen data here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Signals:
    """The signals as of the last completed session (`day`); NaN or neutral when unknown.

    `spx_crossover` is +1 for a bullish SPX MACD crossover on `day`, -1 for a bearish one, 0 for
    none. `rsi_episode` is "low" (VIX RSI below its low line), "high" (above its high line) or
    "" outside both, and `rsi_episode_start` the session the episode began.
    """

    day: date | None = None
    breadth_divergence: bool = False
    spx_crossover: int = 0
    vix_rsi: float = math.nan
    rsi_episode: str = ""
    rsi_episode_start: date | None = None
    r2: float = math.nan

    @property
    def known(self) -> bool:
        return self.day is not None


@dataclass(frozen=True, slots=True)
class HedgeState:
    """The layer's adaptive state and the figures its limits need.

    `k` is the hedge ratio the R2 band steers (before the breadth scale), `ratio` the
    backspread's 1:N, `hedge_scale` the operator's multiplier (`alvh set hedge-scale`), and
    `ratio_override` the operator's pinned ratio (`alvh set ratio`), which wins over `ratio`.
    `layer_cost_year` is the VIX layer's net cost over the last 365 days (positive = spent), and
    `day_pnl` the account's P&L since the day's first net liquidation (negative = loss).
    """

    k: float = 1.0
    ratio: int = 2
    hedge_scale: float = 1.0
    ratio_override: int | None = None
    signals: Signals = field(default_factory=Signals)
    layer_cost_year: float = 0.0
    day_pnl: float = 0.0

    @property
    def effective_ratio(self) -> int:
        return self.ratio_override if self.ratio_override is not None else self.ratio
