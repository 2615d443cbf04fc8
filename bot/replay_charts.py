"""The replay report's charts: one function per PNG, each drawn from `ReplayFigures`.

Drawn like the daily log's chart (bot/report_charts.py): a bare `Figure` on the Agg canvas (no
pyplot, no global figure state, no display), closed by going out of scope; dates by matplotlib's
concise formatter; money without a scientific offset; no "Software" or date metadata, so the
same figures give the same bytes. A chart without data says so in its middle instead of failing.
Colors are fixed: condors blue, VIX layer orange, total black, SPX grey.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from bot.replay_report import Decline, ReplayFigures
from broker.structures import Engine

DPI = 100
WIDE = (11.0, 5.0)
TALL = (11.0, 7.0)
CONDOR, LAYER, TOTAL, SPX = "tab:blue", "tab:orange", "black", "tab:gray"
ENGINE_COLOR = {Engine.CONDOR: CONDOR, Engine.VIX: LAYER}
ENGINE_LABEL = {Engine.CONDOR: "condors", Engine.VIX: "VIX layer"}
DAY_AXIS = "day (America/New_York)"
NOT_ENOUGH = "not enough data"
MONTH_LABELS = 24  # at most this many month labels on the rolls chart


@dataclass(frozen=True)
class Chart:
    """A PNG of the report: its file name, its title, how to draw it."""

    file: str
    title: str
    render: Callable[[ReplayFigures], bytes]


# shared drawing


def _figure(size: tuple[float, float] = WIDE) -> tuple[Figure, Axes]:
    figure = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _dates(axes: Axes) -> None:
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_xlabel(DAY_AXIS)


def _money(axes: Axes, label: str = "USD") -> None:
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))
    axes.set_ylabel(label)


def _empty(axes: Axes, why: str = NOT_ENOUGH) -> None:
    axes.text(0.5, 0.5, why, transform=axes.transAxes, ha="center", va="center", fontsize=14)
    axes.set_xticks([])
    axes.set_yticks([])


def _x(index: pd.Index) -> np.ndarray:
    return np.asarray(date2num(pd.DatetimeIndex(index).to_pydatetime()))


def _legend(axes: Axes, extra: Sequence[Axes] = ()) -> None:
    handles, labels = axes.get_legend_handles_labels()
    for other in extra:
        more_handles, more_labels = other.get_legend_handles_labels()
        handles, labels = [*handles, *more_handles], [*labels, *more_labels]
    axes.legend(handles, labels, loc="upper left", fontsize=9, framealpha=0.85)


# the charts


def equity_by_engine_png(figures: ReplayFigures) -> bytes:
    """Cumulative P&L of condors, VIX layer and total, rolls marked; SPX on the right axis."""
    figure, axes = _figure()
    axes.set_title("Cumulative P&L by engine (rolls marked x), with SPX")
    daily = figures.daily
    if daily.empty:
        _empty(axes)
        return _png(figure)
    x = _x(daily.index)
    axes.plot(x, daily["total_cum"], color=TOTAL, linewidth=1.6, label="total (net liquidation)")
    for engine, column in ((Engine.CONDOR, "condor_cum"), (Engine.VIX, "layer_cum")):
        axes.plot(x, daily[column], color=ENGINE_COLOR[engine], label=ENGINE_LABEL[engine])
        _roll_markers(axes, figures, engine, daily[column])
    axes.axhline(0.0, color="black", linewidth=0.6, alpha=0.5)
    _money(axes, "cumulative P&L (USD)")
    _dates(axes)
    axes.grid(alpha=0.3)
    right = axes.twinx()
    if not figures.spx.empty:
        right.plot(
            _x(figures.spx.index),
            figures.spx,
            color=SPX,
            linewidth=0.9,
            alpha=0.7,
            linestyle="--",
            label="SPX close (right)",
        )
    right.set_ylabel("SPX close")
    _legend(axes, [right])
    return _png(figure)


def _roll_markers(axes: Axes, figures: ReplayFigures, engine: Engine, cum: pd.Series) -> None:
    days = pd.DatetimeIndex(sorted({f.day for f in figures.rolls if f.engine is engine}))
    at = cum.reindex(days).dropna()
    if not at.empty:
        axes.plot(_x(at.index), at, "x", color=ENGINE_COLOR[engine], markersize=5)


def r2_band_png(figures: ReplayFigures) -> bytes:
    """The day's rolling R2 of portfolio on SPX returns, with the target band shaded."""
    figure, axes = _figure()
    band = figures.band
    share = band.inside_share
    shown = NOT_ENOUGH if share is None else f"{share:.0%} of {band.known} known days inside"
    axes.set_title(f"Rolling R2 of portfolio vs SPX daily returns ({shown})")
    r2 = figures.r2
    if r2.dropna().empty:
        _empty(axes, f"{NOT_ENOUGH}: no R2 journaled yet")
        return _png(figure)
    axes.axhspan(
        band.low,
        band.high,
        color="tab:green",
        alpha=0.15,
        label=f"band {band.low:.2f}-{band.high:.2f}",
    )
    axes.plot(_x(r2.index), r2, color="tab:purple", linewidth=1.2, label="rolling R2")
    axes.set_ylim(0.0, 1.0)
    axes.set_ylabel("R2")
    _dates(axes)
    axes.grid(alpha=0.3)
    _legend(axes)
    return _png(figure)


def hedge_ratio_png(figures: ReplayFigures) -> bytes:
    """k and effective k at each rebalance, with the backspread ratio 1:N as a step line."""
    figure, axes = _figure()
    axes.set_title("Hedge ratio k (R2 band) and effective k, with the backspread ratio")
    hedge = figures.hedge
    if hedge.empty:
        _empty(axes, f"{NOT_ENOUGH}: no rebalance journaled")
        return _png(figure)
    x = _x(hedge.index)
    params = figures.params.hedge
    axes.plot(x, hedge["k"], color="tab:blue", linewidth=1.5, label="k")
    axes.plot(
        x,
        hedge["k_effective"],
        color="tab:cyan",
        linewidth=1.0,
        alpha=0.9,
        label="k effective (x breadth, x hedge scale)",
    )
    for bound in (params.k_min, params.k_max):
        axes.axhline(bound, color="tab:blue", linestyle=":", linewidth=0.8)
    axes.set_ylabel(f"k (bounds {params.k_min:g}-{params.k_max:g} dotted)")
    _dates(axes)
    axes.grid(alpha=0.3)
    right = axes.twinx()
    right.step(
        x,
        hedge["ratio"],
        where="post",
        color="tab:red",
        linewidth=1.2,
        label="backspread ratio 1:N (right)",
    )
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    right.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"1:{value:.0f}"))
    right.set_ylim(0.5, figures.params.vix.backspread_max_ratio + 0.5)
    right.set_ylabel("backspread ratio")
    _legend(axes, [right])
    return _png(figure)


def drawdown_png(figures: ReplayFigures) -> bytes:
    """Drawdown of the total and of SPX in percent, the largest SPX declines shaded."""
    figure, axes = _figure()
    axes.set_title("Drawdown from the running peak: total vs SPX (largest SPX declines shaded)")
    daily = figures.daily
    if daily.empty:
        _empty(axes)
        return _png(figure)
    x = _x(daily.index)
    total = daily["drawdown_pct"].to_numpy(float) * 100.0
    axes.fill_between(x, total, 0.0, color=TOTAL, alpha=0.25, linewidth=0)
    axes.plot(x, total, color=TOTAL, linewidth=1.0, label="total")
    axes.plot(x, daily["spx_drawdown_pct"], color=SPX, linewidth=1.0, label="SPX")
    for rank, found in enumerate(figures.declines, start=1):
        left, right = date2num(found.decline.peak), date2num(found.decline.trough)
        axes.axvspan(left, right, color="tab:red", alpha=0.08)
        axes.text(left, 0.02, f"#{rank}", transform=axes.get_xaxis_transform(), fontsize=8)
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=100.0))
    axes.set_ylabel("drawdown (%)")
    _dates(axes)
    axes.grid(alpha=0.3)
    _legend(axes)
    return _png(figure)


def rolls_by_month_png(figures: ReplayFigures) -> bytes:
    """Rolls per calendar month of the period (months without one included), stacked by engine."""
    figure, axes = _figure()
    axes.set_title(f"Rolls per month by engine ({len(figures.rolls)} in all)")
    if not figures.rolls:
        _empty(axes, "no roll journaled in the period")
        return _png(figure)
    months = pd.period_range(figures.start, figures.end, freq="M")
    x = np.arange(len(months))
    bottom = np.zeros(len(months))
    for engine in Engine:
        rolled = [pd.Period(f.day, freq="M") for f in figures.rolls if f.engine is engine]
        counts = pd.Series(1, index=pd.PeriodIndex(rolled, freq="M")).groupby(level=0).sum()
        values = counts.reindex(months, fill_value=0).to_numpy(float)
        axes.bar(x, values, width=0.8, bottom=bottom, color=ENGINE_COLOR[engine],
                 label=ENGINE_LABEL[engine])  # fmt: skip
        bottom += values
    every = max(1, math.ceil(len(months) / MONTH_LABELS))
    axes.set_xticks(x[::every], [str(m) for m in months[::every]], rotation=45, ha="right")
    axes.set_xlim(-0.6, len(months) - 0.4)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("rolls")
    axes.set_xlabel("month")
    axes.grid(alpha=0.3, axis="y")
    _legend(axes)
    return _png(figure)


def biggest_days_png(figures: ReplayFigures) -> bytes:
    """The biggest up and down days: each engine's P&L as bars, the total as a dot."""
    figure = Figure(figsize=TALL, dpi=DPI)
    FigureCanvasAgg(figure)
    panels = figure.subplots(1, 2)
    for axes, table, name in zip(
        panels, (figures.up_days, figures.down_days), ("up", "down"), strict=True
    ):
        axes.set_title(f"The {len(table)} biggest {name} days")
        if table.empty:
            _empty(axes, f"no {name} day")
            continue
        y = np.arange(len(table))[::-1]
        labels = [
            f"{d:%Y-%m-%d}\nSPX {c:+.1f}%" if np.isfinite(c) else f"{d:%Y-%m-%d}"
            for d, c in zip(table.index, table["spx_change_pct"], strict=True)
        ]
        axes.barh(y + 0.2, table["condor"], height=0.4, color=CONDOR, label="condors")
        axes.barh(y - 0.2, table["layer"], height=0.4, color=LAYER, label="VIX layer")
        axes.plot(table["total"], y, "D", color=TOTAL, markersize=5, label="total")
        axes.set_yticks(y, labels, fontsize=8)
        axes.axvline(0.0, color="black", linewidth=0.6)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))
        axes.set_xlabel("day P&L (USD)")
        axes.grid(alpha=0.3, axis="x")
        axes.legend(fontsize=8, loc="lower right" if name == "up" else "lower left")
    figure.suptitle("Biggest days of the total, split by engine")
    return _png(figure)


def spx_declines_png(figures: ReplayFigures) -> bytes:
    """Condors, VIX layer and total P&L over each of the largest SPX declines."""
    figure, axes = _figure()
    axes.set_title("P&L over the largest SPX declines (peak close to trough close)")
    known = [d for d in figures.declines if d.total is not None]
    if not known:
        _empty(axes, f"{NOT_ENOUGH}: no SPX decline inside the equity days")
        return _png(figure)
    x = np.arange(len(known))
    for offset, name, color, key in (
        (-0.27, "condors", CONDOR, "condor"),
        (0.0, "VIX layer", LAYER, "layer"),
        (0.27, "total", TOTAL, "total"),
    ):
        values = [getattr(d, key) or 0.0 for d in known]
        axes.bar(x + offset, values, width=0.27, color=color, label=name)
    axes.set_xticks(
        x,
        [_decline_label(d.decline) for d in known],
        fontsize=8,
    )
    axes.axhline(0.0, color="black", linewidth=0.6)
    _money(axes, "P&L over the decline (USD)")
    axes.set_xlabel("SPX decline (deepest first)")
    axes.grid(alpha=0.3, axis="y")
    _legend(axes)
    return _png(figure)


def _decline_label(decline: Decline) -> str:
    return f"{decline.peak:%Y-%m-%d}\nto {decline.trough:%Y-%m-%d}\nSPX {decline.depth_pct:.1f}%"


def layer_cost_png(figures: ReplayFigures) -> bytes:
    """The VIX layer's cost per calendar year against its budget, with the backspread credits."""
    figure, axes = _figure()
    axes.set_title("VIX layer: net cost per year vs budget, premium paid and backspread credits")
    years = figures.layer_years
    if not years:
        _empty(axes, f"{NOT_ENOUGH}: no layer positions")
        return _png(figure)
    x = np.arange(len(years))
    bars = (
        ("net cost (- P&L)", LAYER, [y.cost for y in years]),
        ("budget", "tab:green", [y.budget for y in years]),
        ("option premium paid", "tab:brown", [y.premium_paid for y in years]),
        ("backspread credits", "tab:purple", [y.backspread_credits for y in years]),
    )
    width = 0.8 / len(bars)
    for n, (name, color, values) in enumerate(bars):
        axes.bar(x + (n - 1.5) * width, values, width=width, color=color, label=name)
    axes.set_xticks(x, [str(y.year) for y in years])
    axes.axhline(0.0, color="black", linewidth=0.6)
    _money(axes)
    axes.set_xlabel("calendar year")
    axes.grid(alpha=0.3, axis="y")
    _legend(axes)
    return _png(figure)


CHARTS = (
    Chart("equity_by_engine.png", "Cumulative P&L by engine, with SPX", equity_by_engine_png),
    Chart("r2_band.png", "Rolling R2 and its band", r2_band_png),
    Chart("hedge_ratio.png", "k, effective k and the backspread ratio", hedge_ratio_png),
    Chart("drawdown.png", "Drawdown of the total and of SPX", drawdown_png),
    Chart("spx_declines.png", "Condors vs VIX layer in the largest SPX declines", spx_declines_png),
    Chart("layer_cost.png", "The VIX layer's cost per year vs budget", layer_cost_png),
    Chart("rolls_by_month.png", "Rolls per month by engine", rolls_by_month_png),
    Chart("biggest_days.png", "The biggest up and down days", biggest_days_png),
)
