"""The equity chart of the daily log: net liquidation by day up to the report's day, as PNG bytes.

Drawn on a bare `matplotlib.figure.Figure` with the Agg canvas (no pyplot, so no global figure
state and no display needed). Dates are formatted by matplotlib's concise date formatter and the
money axis without scientific offset (a curve near 1,000,000 would otherwise read "+1e6").
The PNG carries no "Software" or date metadata, so the same curve gives the same bytes.

Memory (the daemon draws one chart a day for months). A drawn Figure is a web of reference
cycles (figure, canvas, axes, artists, callbacks), so it is freed only by a full garbage
collection, which a process holding a million long-lived objects runs only every few charts;
meanwhile the figures' C buffers (Agg's 1.6 MB RGBA buffer among them) are interleaved with
other allocations, and glibc keeps the freed holes mapped. Measured on 500 charts rendered in
a worker thread (as the engine does): RSS grows by 20-40 MB above the first chart and stays
there. So after each chart ``release_chart_memory`` runs a full ``gc.collect()`` (the figure
goes at once; about 0.1 s in the daemon, once a day) and then glibc's ``malloc_trim(0)``
through ctypes, which hands every free page of every malloc arena back to the kernel. With
both, RSS stays within a few MB of the first chart (bench/README.md, soak section). On a libc
without ``malloc_trim`` (musl, macOS, Windows) only the collection runs. The daemon draws
its chart in a short-lived child process when its journal is a file (bot/day_log_child.py),
so matplotlib is never imported there; the release matters where the chart is drawn in a
long-lived process: a replay writing daily logs (in-memory journal) and `bench/soak.py
--charts`.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import io
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import cast

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
    """Return a PNG of net liquidation per day in `curve` with `day` marked.

    The figure's memory is released before returning (``release_chart_memory``).
    """
    try:
        return _render_png(curve, day)
    finally:
        release_chart_memory()


def release_chart_memory() -> None:
    """Free unreachable figures now (full collection) and return free heap pages to the OS."""
    gc.collect()
    trim = glibc_malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def glibc_malloc_trim() -> Callable[[int], int] | None:
    """Return glibc's ``malloc_trim`` through ctypes, or None where the C library lacks it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return cast(Callable[[int], int], trim)


def _render_png(curve: Sequence[tuple[date, float]], day: date) -> bytes:
    """Draw the chart on a fresh Figure and return its PNG bytes."""
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
