"""Pure signal functions on daily series: MACD, Wilder RSI, breadth, rolling R2, macro calendar.

Each module states its rule as read in DESIGN.md section 2 ("Signals" and the VIX layer) and its
source. Every function takes its data (and `today` where needed) as arguments; none reads a clock,
a file or a calendar library. Short input gives NaN or an empty result, never an exception.
"""

from strategies.signals.breadth import (
    ad_line,
    breadth_divergence,
    histogram_narrowing,
    near_rolling_high,
)
from strategies.signals.macd import MacdResult, crossovers, last_crossover, macd
from strategies.signals.macro_calendar import (
    EVENT_KINDS,
    MacroEvent,
    blocks_new_condor,
    next_events,
    next_trading_day,
    parse_macro_events,
)
from strategies.signals.r_squared import BandPosition, band_position, rolling_r_squared
from strategies.signals.rsi import Episode, episode_at, rsi, rsi_episodes

__all__ = [
    "EVENT_KINDS",
    "BandPosition",
    "Episode",
    "MacdResult",
    "MacroEvent",
    "ad_line",
    "band_position",
    "blocks_new_condor",
    "breadth_divergence",
    "crossovers",
    "episode_at",
    "histogram_narrowing",
    "last_crossover",
    "macd",
    "near_rolling_high",
    "next_events",
    "next_trading_day",
    "parse_macro_events",
    "rolling_r_squared",
    "rsi",
    "rsi_episodes",
]
