"""The equity chart of the daily log: net liquidation by day up to the report's day, as PNG bytes.

Drawn on a bare `matplotlib.figure.Figure` with the Agg canvas (no pyplot, so no global figure
state and no display needed). Dates are formatted by matplotlib's concise date formatter and the
money axis without scientific offset (a curve near 1,000,000 would otherwise read "+1e6").
The PNG carries no "Software" or date metadata, so the same curve gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

SIZE_INCHES = (9.0, 4.5)
DPI = 100
MARKERS_UP_TO = 60  # draw a dot per day on short curves only
MIN_PAD_DAYS = 3.0
MARGINS = {"left": 0.13, "right": 0.98, "top": 0.88, "bottom": 0.14}


def equity_chart_png(curve: Sequence[tuple[date, float]], day: date) -> bytes:
    """Return a PNG of net liquidation per day in `curve` with `day` marked."""
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    title = f"Net liquidation through {day.isoformat()}"
    if curve:
        value = dict(curve).get(day)
        _draw_curve(axes, curve, day, value)
        shown = "no equity row" if value is None else f"{value:,.0f} USD"
        title += f"\n(red: {day.isoformat()}, {shown})"
    else:
        axes.text(
            0.5,
            0.5,
            f"no equity journaled up to {day.isoformat()}",
            transform=axes.transAxes,
            ha="center",
            va="center",
        )
        axes.set_xticks([])
        axes.set_yticks([])
    axes.set_title(title)
    axes.set_xlabel("day (America/New_York)")
    axes.set_ylabel("net liquidation (USD)")
    figure.subplots_adjust(**MARGINS)  # fixed margins: tight_layout would draw twice
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _draw_curve(
    axes: Axes, curve: Sequence[tuple[date, float]], day: date, value: float | None
) -> None:
    """Plot the curve on a date axis, the day as a dashed line and its value as a red dot."""
    days = date2num([d for d, _ in curve])
    values = [v for _, v in curve]
    marker = "o" if len(curve) <= MARKERS_UP_TO else None
    axes.plot(days, values, color="tab:blue", linewidth=1.5, marker=marker, markersize=3)
    x = float(date2num(day))
    axes.axvline(x, color="tab:red", linestyle="--", linewidth=1.0)
    if value is not None:
        axes.plot([x], [value], "o", color="tab:red", markersize=6)
    left, right = min(float(days[0]), x), max(float(days[-1]), x)
    pad = max(MIN_PAD_DAYS, 0.03 * (right - left))  # a lone day gets a week, not four years
    axes.set_xlim(left - pad, right + pad)
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))
    axes.grid(alpha=0.3)
