"""Gather what the hedge decisions read besides the market (the I/O side of the VIX layer).

The macro calendar from its CSV, the signals of the day from the venue's daily bars and the
journal's equity, and the hedge state: k and the ratio as the last rebalance left them (the
journal's `hedge_snapshots`), the operator's overrides, the layer's net cost over a rolling year
and the day's P&L for the loss limit.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from broker.account import AccountSnapshot
from broker.contracts import AD_NYSE, SPX, VIX
from broker.errors import ConfigError
from broker.protocol import Broker
from broker.structures import Engine
from storage.commands import RuntimeState
from storage.hedge_snapshots import HedgeSnapshot
from storage.journal import Journal
from strategies.hedge_state import HedgeState, Signals
from strategies.params import StrategyParams
from strategies.signals.daily import signals_of
from strategies.signals.macro_calendar import MacroEvent, parse_macro_events

BUDGET_WINDOW = timedelta(days=365)


def load_events(path: Path | str) -> tuple[MacroEvent, ...]:
    """Read the macro calendar; raise ConfigError naming the file, line and column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the macro events file ({exc.strerror})") from exc
    try:
        return tuple(parse_macro_events(text))
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


async def todays_signals(broker: Broker, journal: Journal, params: StrategyParams) -> Signals:
    """Return the signals as of the last completed session."""
    days = params.signals.history_days
    spx = await broker.daily_bars(SPX, days)
    vix = await broker.daily_bars(VIX, days)
    breadth = await broker.daily_bars(AD_NYSE, days)
    # only the days of the bars: reading the whole curve made each day's signals slower
    equity = dict(journal.equity_curve(since=spx[0].day if spx else None))
    return signals_of(spx, vix, breadth, equity, params.signals, params.hedge)


def layer_cost_year(journal: Journal, now: datetime) -> float:
    """Return the VIX layer's net cost over the last 365 days (positive = money spent).

    Realized P&L of layer structures closed in the window plus the unrealized P&L of the open
    ones at their last marks, with the sign flipped: premium paid and roll losses count as
    cost, backspread credits and hedge gains reduce it.
    """
    realized = journal.realized_pnl_since(Engine.VIX, now - BUDGET_WINDOW)
    marks = journal.open_marks()
    unrealized = sum(
        s.pnl_at(marks[s.id][0])
        for s in journal.open_structures()
        if s.engine is Engine.VIX and s.id in marks
    )
    return -(realized + unrealized)


def previous_close(journal: Journal, today: date) -> float | None:
    """Return the net liquidation of the last journaled close before today, if any."""
    for day in journal.last_equity_days(2):
        if day.day < today:
            return day.net_liquidation
    return None


def hedge_state(
    last_rebalance: HedgeSnapshot | None,
    account: AccountSnapshot,
    signals: Signals,
    runtime: RuntimeState,
    params: StrategyParams,
    *,
    previous_nlv: float | None,
    cost_year: float,
) -> HedgeState:
    """Return the hedge state: k and the ratio from the last rebalance (or the defaults)."""
    last = last_rebalance
    k = last.k if last is not None else params.hedge.k_initial
    ratio = last.ratio if last is not None else params.vix.backspread_base_ratio
    return HedgeState(
        k=k,
        ratio=ratio,
        hedge_scale=runtime.hedge_scale if runtime.hedge_scale is not None else 1.0,
        ratio_override=runtime.ratio,
        signals=signals,
        layer_cost_year=cost_year,
        day_pnl=account.net_liquidation - previous_nlv if previous_nlv is not None else 0.0,
    )
