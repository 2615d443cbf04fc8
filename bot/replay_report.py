"""The replay report (`alvh replay --report DIR`): figures from a replay's journal, then files.

Modeling choices:
- The day grid and each engine's value at a day's end (realized plus unrealized at the last
  daily mark) are bot/replay_ledger.py's. Total P&L is the change of net liquidation; an
  engine's P&L over any span is the change of its value. What the engines leave unexplained
  (commissions of open structures, the cash's interest, structures without marks) is "other":
  total minus both engines.
- Drawdowns are falls below the running peak of net liquidation (and of the SPX close).
- The largest SPX declines are found greedily on the period's closes: the deepest
  peak-to-trough decline, then the deepest before its peak or after its trough, and so on, so
  they never overlap; each engine's P&L over one is its value at the trough day's close minus
  its value at the peak day's close.
- R2, k, effective k and the ratio are the hedge snapshots' (the last of each day; k and the
  ratio from the "rebalance" job). The band share counts only days with a known R2, bounds
  inclusive.
- The layer's cost per calendar year is minus its P&L over the year (value at the year's last
  day minus at the previous year's last day, or the base); premium paid is the debit of VIX
  option structures opened in the year, backspread credits the credit of backspreads opened
  for one (a roll's replacement included); the budget is budget_pct x the year's average net
  liquidation, prorated to the period's calendar days inside the year.
- A roll's kind is its reason's head without numbers ("roll rung", "roll condor, tested put");
  its net credit is -net price x multiplier x the units rolled (positive = credit received).
- Daily figures live in one pandas DataFrame (`ReplayFigures.daily`, also written as
  daily.csv); the other figures are frozen values computed by the functions below.
"""

from __future__ import annotations

import heapq
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from bot.daily_report import write_atomically
from bot.replay_ledger import (
    Floats,
    Grid,
    Ledger,
    Position,
    day_grid,
    ny_day,
    read_ledger,
    unmarked_rows,
)
from broker.structures import Engine, StructureKind
from storage.hedge_snapshots import HedgeSnapshot
from storage.journal import Journal, JournaledRoll
from strategies.params import StrategyParams

ENGINE_COLUMN = {Engine.CONDOR: "condor", Engine.VIX: "layer"}
TOP_DAYS = 10
SPX_DECLINES = 5
STEP_TOLERANCE = 1e-9  # a relative change of k below this is no step
OPTION_KINDS = frozenset(
    {StructureKind.CALL_BLOCK, StructureKind.ADDON_CALLS, StructureKind.BACKSPREAD}
)


@dataclass(frozen=True, slots=True)
class Totals:
    """The period's balances and P&L split by engine."""

    base_day: date
    last_day: date
    start_equity: float
    end_equity: float
    total: float
    condor: float
    layer: float
    max_drawdown: float
    max_drawdown_pct: float
    drawdown_peak: date
    drawdown_trough: date

    @property
    def other(self) -> float:
        """Return what the engines leave unexplained (commissions of open rows, interest)."""
        return self.total - self.condor - self.layer


@dataclass(frozen=True, slots=True)
class BandShare:
    """Where the day's R2 sat against the band [low, high], over the days it was known."""

    low: float
    high: float
    known: int
    inside: int
    above: int
    below: int
    unknown: int

    @property
    def inside_share(self) -> float | None:
        """Return the share of known days inside the band, or None with no known day."""
        return self.inside / self.known if self.known else None


@dataclass(frozen=True, slots=True)
class HedgeSummary:
    """How k and the backspread ratio moved over the rebalance days."""

    days: int
    k_first: float
    k_last: float
    k_min: float
    k_max: float
    k_raises: int
    k_lowerings: int
    k_effective_min: float
    k_effective_max: float
    ratio_days: Mapping[int, int]
    ratio_changes: int
    divergence_days: int


@dataclass(frozen=True, slots=True)
class Decline:
    """An SPX peak-to-trough decline: closes at both ends and the first close back at the peak."""

    peak: date
    trough: date
    peak_close: float
    trough_close: float
    recovered: date | None

    @property
    def depth_pct(self) -> float:
        """Return the decline in percent (negative)."""
        return (self.trough_close / self.peak_close - 1.0) * 100.0


@dataclass(frozen=True, slots=True)
class DeclinePnl:
    """The total's and each engine's P&L from a decline's peak close to its trough close."""

    decline: Decline
    total: float | None
    condor: float | None
    layer: float | None

    @property
    def layer_offset(self) -> float | None:
        """Return the layer's P&L as a share of the condors' loss (None unless they lost)."""
        if self.condor is None or self.layer is None or self.condor >= 0:
            return None
        return self.layer / -self.condor


@dataclass(frozen=True, slots=True)
class LayerYear:
    """The VIX layer over one calendar year of the period against its budget.

    `pnl` is the layer's realized plus unrealized change; its cost is minus that. Premium is
    what opening option structures (call blocks, add-on calls, backspreads) cost when paid as a
    debit; backspread credits are what opening backspreads for a credit received. The budget is
    budget_pct x the year's average net liquidation, prorated to the calendar days of the
    period inside the year.
    """

    year: int
    first_day: date
    last_day: date
    pnl: float
    premium_paid: float
    backspread_credits: float
    average_nlv: float
    budget: float

    @property
    def cost(self) -> float:
        """Return the layer's net cost over the year (positive = money spent)."""
        return -self.pnl

    @property
    def budget_used(self) -> float | None:
        """Return the cost as a share of the budget (None without a budget)."""
        return self.cost / self.budget if self.budget > 0 else None

    @property
    def credits_share(self) -> float | None:
        """Return the backspread credits as a share of the premium paid (None without premium)."""
        return self.backspread_credits / self.premium_paid if self.premium_paid > 0 else None


@dataclass(frozen=True, slots=True)
class RollFact:
    """A roll of the period: its day, engine, reason kind and net credit (USD, + = received)."""

    day: date
    engine: Engine
    kind: str
    reason: str
    credit: float | None


@dataclass(frozen=True, slots=True)
class RollGroup:
    """Rolls of one engine and reason kind: how many and their net credit (USD)."""

    engine: Engine
    kind: str
    count: int
    net_credit: float


@dataclass(frozen=True)
class ReplayFigures:
    """Everything the report shows, computed from the ledger and the SPX closes."""

    start: date
    end: date
    params: StrategyParams
    daily: pd.DataFrame  # indexed by day (DatetimeIndex); see DAILY_COLUMNS
    spx: pd.Series  # SPX closes inside [start, end]
    r2: pd.Series  # the day's rolling R2 (NaN when unknown), by hedge-snapshot day
    hedge: pd.DataFrame  # k, k_effective, ratio by rebalance day
    totals: Totals | None
    band: BandShare
    hedge_summary: HedgeSummary | None
    declines: tuple[DeclinePnl, ...]
    layer_years: tuple[LayerYear, ...]
    rolls: tuple[RollFact, ...]
    up_days: pd.DataFrame
    down_days: pd.DataFrame
    opened_by_kind: Mapping[tuple[str, str], int]
    layer_rows: int  # VIX layer structures in the journal (0: the layer never traded)
    unmarked: int  # rows held at a day's end of the period that never had a daily mark


DAILY_COLUMNS = (
    "net_liquidation",
    "total",
    "condor",
    "layer",
    "other",
    "total_cum",
    "condor_cum",
    "layer_cum",
    "drawdown",
    "drawdown_pct",
    "spx_close",
    "spx_change_pct",
    "spx_drawdown_pct",
    "r2",
    "k",
    "k_effective",
    "ratio",
)


def _changes(values: Floats, offset: int) -> Floats:
    return np.diff(values, prepend=np.nan)[offset:]


def drawdown(values: Floats) -> tuple[Floats, Floats]:
    """Return the fall below the running peak, in value and as a share of the peak."""
    peak = np.maximum.accumulate(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        return values - peak, np.where(peak != 0, values / peak - 1.0, np.nan)


def daily_table(grid: Grid, spx_all: pd.Series, r2: pd.Series, hedge: pd.DataFrame) -> pd.DataFrame:
    """Return the period's daily figures (columns DAILY_COLUMNS) indexed by day."""
    o = grid.offset
    index = pd.DatetimeIndex(grid.days[o:])
    engines = {ENGINE_COLUMN[e]: grid.values[e] for e in Engine}
    table = pd.DataFrame(index=index)
    table["net_liquidation"] = grid.nlv[o:]
    table["total"] = _changes(grid.nlv, o)
    for name, values in engines.items():
        table[name] = _changes(values, o)
    table["other"] = table["total"] - table["condor"] - table["layer"]
    table["total_cum"] = grid.nlv[o:] - grid.nlv[0]
    for name, values in engines.items():
        table[f"{name}_cum"] = values[o:] - values[0]
    dd, dd_pct = drawdown(grid.nlv)
    table["drawdown"], table["drawdown_pct"] = dd[o:], dd_pct[o:]
    spx = spx_all.reindex(index)
    table["spx_close"] = spx
    table["spx_change_pct"] = spx_all.pct_change().reindex(index) * 100.0
    spx_known = spx.dropna()
    table["spx_drawdown_pct"] = pd.Series(
        drawdown(spx_known.to_numpy(float))[1] * 100.0, index=spx_known.index
    ).reindex(index)
    table["r2"] = r2.reindex(index)
    for column in ("k", "k_effective", "ratio"):
        table[column] = hedge[column].reindex(index) if column in hedge else np.nan
    return table


def totals_of(grid: Grid, table: pd.DataFrame) -> Totals:
    """Return the period's balances, P&L by engine and the total's deepest drawdown."""
    dd = grid.nlv - np.maximum.accumulate(grid.nlv)
    trough = int(np.argmin(dd))
    peak = int(np.argmax(grid.nlv[: trough + 1]))
    last = table.iloc[-1]
    return Totals(
        base_day=_day(grid.days[0]),
        last_day=_day(grid.days[-1]),
        start_equity=float(grid.nlv[0]),
        end_equity=float(grid.nlv[-1]),
        total=float(last["total_cum"]),
        condor=float(last["condor_cum"]),
        layer=float(last["layer_cum"]),
        max_drawdown=float(-dd[trough]),
        max_drawdown_pct=float(-dd[trough] / grid.nlv[peak]) if grid.nlv[peak] else 0.0,
        drawdown_peak=_day(grid.days[peak]),
        drawdown_trough=_day(grid.days[trough]),
    )


def _day(value: np.datetime64) -> date:
    return date.fromisoformat(str(value.astype("datetime64[D]")))


# series from the SPX closes and the hedge snapshots


def spx_series(spx_closes: Mapping[date, float]) -> pd.Series:
    """Return the finite SPX closes as a float series on a sorted DatetimeIndex."""
    series = pd.Series(
        [float(v) for v in spx_closes.values()],
        index=pd.DatetimeIndex(list(spx_closes.keys())),
        dtype=float,
    )
    return series[np.isfinite(series.to_numpy(float))].sort_index()


def _in_period(series: pd.Series, start: date, end: date) -> pd.Series:
    inside = (series.index >= pd.Timestamp(start)) & (series.index <= pd.Timestamp(end))
    return series[inside]


def r2_by_day(snapshots: Sequence[HedgeSnapshot], start: date, end: date) -> pd.Series:
    """Return the last R2 journaled each day in [start, end] (NaN when it was unknown)."""
    by_day = {s.day: s.signals.r2 for s in snapshots if start <= s.day <= end}
    return pd.Series(
        [by_day[d] for d in sorted(by_day)], index=pd.DatetimeIndex(sorted(by_day)), dtype=float
    )


def hedge_by_day(snapshots: Sequence[HedgeSnapshot], start: date, end: date) -> pd.DataFrame:
    """Return k, k effective and the ratio of each day's last rebalance (any job if none)."""
    chosen = [s for s in snapshots if s.job == "rebalance"] or list(snapshots)
    by_day = {s.day: s for s in chosen if start <= s.day <= end}
    days = sorted(by_day)
    return pd.DataFrame(
        {
            "k": [by_day[d].k for d in days],
            "k_effective": [by_day[d].k_effective for d in days],
            "ratio": [float(by_day[d].ratio) for d in days],
            "breadth_divergence": [by_day[d].signals.breadth_divergence for d in days],
        },
        index=pd.DatetimeIndex(days),
    )


# the period's extremes


def biggest_days(table: pd.DataFrame, n: int = TOP_DAYS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the `n` biggest gains and the `n` biggest losses of the total, biggest first."""
    columns = ["total", "condor", "layer", "spx_close", "spx_change_pct"]
    known = table.loc[table["total"].notna(), columns]
    up = known[known["total"] > 0].sort_values("total", ascending=False, kind="stable")
    down = known[known["total"] < 0].sort_values("total", ascending=True, kind="stable")
    return up.head(n), down.head(n)


def decline_pnl(grid: Grid, decline: Decline) -> DeclinePnl:
    """Return the total's and each engine's P&L from a decline's peak close to its trough."""
    peak, trough = grid.at(decline.peak), grid.at(decline.trough)
    if peak is None or trough is None:
        return DeclinePnl(decline, None, None, None)

    def change(values: Floats) -> float:
        return float(values[trough] - values[peak])

    return DeclinePnl(
        decline,
        change(grid.nlv),
        change(grid.values[Engine.CONDOR]),
        change(grid.values[Engine.VIX]),
    )


def opened_by_kind(ledger: Ledger, start: date, end: date) -> dict[tuple[str, str], int]:
    """Return how many structures each engine opened by kind in the period (rows of a lot once)."""
    lots = {p.lot for p in ledger.positions if start <= ny_day(p.structure.opened_at) <= end}
    counts: dict[tuple[str, str], int] = {}
    for lot in lots:
        key = (str(lot[0]), str(lot[1]))
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


# the R2 band, k and the ratio


def band_share(r2: Floats, low: float, high: float) -> BandShare:
    """Count the days the R2 was inside [low, high], above, below, and unknown (NaN)."""
    known = r2[~np.isnan(r2)]
    inside = int(np.count_nonzero((known >= low) & (known <= high)))
    above = int(np.count_nonzero(known > high))
    below = known.size - inside - above
    return BandShare(low, high, known.size, inside, above, below, r2.size - known.size)


def hedge_summary(hedge: pd.DataFrame) -> HedgeSummary | None:
    """Return how k and the ratio moved over the rebalance days (None without one)."""
    if hedge.empty:
        return None
    k = hedge["k"].to_numpy(float)
    k_effective = hedge["k_effective"].to_numpy(float)
    step = np.diff(k) / k[:-1]
    ratio = hedge["ratio"].to_numpy(float).astype(int)
    values, counts = np.unique(ratio, return_counts=True)
    return HedgeSummary(
        days=k.size,
        k_first=float(k[0]),
        k_last=float(k[-1]),
        k_min=float(k.min()),
        k_max=float(k.max()),
        k_raises=int(np.count_nonzero(step > STEP_TOLERANCE)),
        k_lowerings=int(np.count_nonzero(step < -STEP_TOLERANCE)),
        k_effective_min=float(k_effective.min()),
        k_effective_max=float(k_effective.max()),
        ratio_days={int(v): int(c) for v, c in zip(values, counts, strict=True)},
        ratio_changes=int(np.count_nonzero(np.diff(ratio))),
        divergence_days=int(hedge["breadth_divergence"].astype(bool).sum()),
    )


# the largest SPX declines

Candidate = tuple[float, int, int, int, int]  # depth, peak, trough, segment start, segment end


def _deepest_in(values: Floats, lo: int, hi: int) -> Candidate | None:
    """Return the deepest peak-to-trough decline inside values[lo:hi], or None if none."""
    part = values[lo:hi]
    if part.size < 2:
        return None
    depth = part / np.maximum.accumulate(part) - 1.0
    trough = int(np.argmin(depth))
    if depth[trough] >= 0:
        return None
    peak = int(np.argmax(part[: trough + 1]))
    return float(depth[trough]), lo + peak, lo + trough, lo, hi


def deepest_declines(closes: pd.Series, n: int = SPX_DECLINES) -> list[Decline]:
    """Return the `n` deepest SPX declines that do not overlap, deepest first.

    Greedy: the deepest peak-to-trough decline of the closes, then the deepest in what lies
    before its peak and after its trough, and so on; a decline's ends are closes. Closes that
    are not finite are left out.
    """
    closes = closes[np.isfinite(closes.to_numpy(float))]
    values = closes.to_numpy(float)
    days = [ts.date() for ts in closes.index]
    heap = [c for c in [_deepest_in(values, 0, values.size)] if c is not None]
    found: list[Decline] = []
    while heap and len(found) < n:
        _, peak, trough, lo, hi = heapq.heappop(heap)
        back = np.flatnonzero(values[trough + 1 :] >= values[peak])
        recovered = days[trough + 1 + int(back[0])] if back.size else None
        found.append(Decline(days[peak], days[trough], values[peak], values[trough], recovered))
        for part in (_deepest_in(values, lo, peak), _deepest_in(values, trough + 1, hi)):
            if part is not None:
                heapq.heappush(heap, part)
    return found


# the layer's cost per year


def layer_years(
    positions: Sequence[Position], grid: Grid, start: date, end: date, budget_pct: float
) -> list[LayerYear]:
    """Return the VIX layer's P&L, premium, backspread credits and budget per calendar year."""
    period, nlv = grid.days[grid.offset :], grid.nlv[grid.offset :]
    values = grid.values[Engine.VIX]
    years = sorted({int(y) + 1970 for y in period.astype("datetime64[Y]").astype(int)})
    result = []
    for year in years:
        jan1, dec31 = date(year, 1, 1), date(year, 12, 31)
        inside = (period >= np.datetime64(jan1)) & (period <= np.datetime64(dec31))
        before, last = grid.at(jan1 - timedelta(days=1)), grid.at(dec31)
        assert last is not None  # the year holds a grid day
        opened = [p.structure for p in positions if ny_day(p.structure.opened_at).year == year]
        span = (min(dec31, end) - max(jan1, start)).days + 1
        average = float(nlv[inside].mean())
        result.append(
            LayerYear(
                year=year,
                first_day=_day(period[inside][0]),
                last_day=_day(period[inside][-1]),
                pnl=float(values[last] - values[before or 0]),
                premium_paid=sum(
                    s.open_price * s.multiplier * s.quantity
                    for s in opened
                    if s.kind in OPTION_KINDS and s.open_price > 0
                ),
                backspread_credits=sum(
                    -s.open_price * s.multiplier * s.quantity
                    for s in opened
                    if s.kind is StructureKind.BACKSPREAD and s.open_price < 0
                ),
                average_nlv=average,
                budget=budget_pct * average * span / ((dec31 - jan1).days + 1),
            )
        )
    return result


# rolls


def reason_kind(reason: str) -> str:
    """Return a roll reason's kind: its head before ':' or '(' without numbers, and the side
    a condor roll defends ("roll condor, tested put")."""
    head, *rest = re.split(r"[:;(]", reason, maxsplit=1)
    kind = " ".join(re.sub(r"#?\d+(?:\.\d+)?", " ", head).split()).lower() or "unspecified"
    side = re.match(r"\s*short (put|call)\b", rest[0] if rest else "")
    return f"{kind}, tested {side.group(1)}" if side else kind


def roll_facts(rolls: Sequence[JournaledRoll], by_id: Mapping[int, Position]) -> list[RollFact]:
    """Return the rolls with their day, reason kind and net credit (None if the row is gone)."""
    facts = []
    for roll in rolls:
        old = by_id.get(roll.old_structure_id)
        credit = None
        if old is not None:
            credit = -roll.net_price * old.structure.multiplier * old.structure.quantity
        facts.append(
            RollFact(ny_day(roll.time), roll.engine, reason_kind(roll.reason), roll.reason, credit)
        )
    return facts


def roll_groups(facts: Sequence[RollFact]) -> list[RollGroup]:
    """Return the rolls counted by engine and reason kind, the most frequent first."""
    grouped: dict[tuple[Engine, str], list[RollFact]] = {}
    for fact in facts:
        grouped.setdefault((fact.engine, fact.kind), []).append(fact)
    groups = [
        RollGroup(engine, kind, len(group), sum(f.credit or 0.0 for f in group))
        for (engine, kind), group in grouped.items()
    ]
    order = list(Engine)
    return sorted(groups, key=lambda g: (order.index(g.engine), -g.count, g.kind))


# everything


def gather_replay_figures(
    ledger: Ledger,
    spx_closes: Mapping[date, float],
    params: StrategyParams,
    start: date,
    end: date,
    start_equity: float | None = None,
) -> ReplayFigures:
    """Compute every figure of the report from the journal's facts and the SPX closes."""
    spx_all = spx_series(spx_closes)
    spx = _in_period(spx_all, start, end)
    r2 = r2_by_day(ledger.snapshots, start, end)
    hedge = hedge_by_day(ledger.snapshots, start, end)
    grid = day_grid(ledger, start, end, start_equity)
    table = (
        daily_table(grid, spx_all, r2, hedge)
        if grid is not None
        else pd.DataFrame(columns=list(DAILY_COLUMNS), index=pd.DatetimeIndex([]), dtype=float)
    )
    up, down = biggest_days(table)
    declines = deepest_declines(spx, SPX_DECLINES)
    layer = [p for p in ledger.positions if p.structure.engine is Engine.VIX]
    return ReplayFigures(
        start=start,
        end=end,
        params=params,
        daily=table,
        spx=spx,
        r2=r2,
        hedge=hedge,
        totals=None if grid is None or table.empty else totals_of(grid, table),
        band=band_share(r2.to_numpy(float), params.hedge.r2_low, params.hedge.r2_high),
        hedge_summary=hedge_summary(hedge),
        declines=tuple(
            decline_pnl(grid, d) if grid else DeclinePnl(d, None, None, None) for d in declines
        ),
        layer_years=tuple(
            layer_years(layer, grid, start, end, params.hedge.budget_pct)
            if grid is not None and layer
            else ()
        ),
        rolls=tuple(roll_facts(ledger.rolls, {p.structure.id: p for p in ledger.positions})),
        up_days=up,
        down_days=down,
        opened_by_kind=opened_by_kind(ledger, start, end),
        layer_rows=len(layer),
        unmarked=0 if grid is None else unmarked_rows(ledger, grid.days[grid.offset :]),
    )


# writing


def daily_csv(table: pd.DataFrame) -> bytes:
    """Return daily.csv: the daily table, one row per equity day."""
    buffer = io.StringIO()
    table.to_csv(buffer, index_label="day", date_format="%Y-%m-%d", float_format="%.12g")
    return buffer.getvalue().encode()


def render_replay_report(figures: ReplayFigures) -> dict[str, bytes]:
    """Return the report's files by name: summary.md, daily.csv and the charts."""
    from bot.replay_charts import CHARTS  # matplotlib loads only when a report is made
    from bot.replay_markdown import SUMMARY_MD, summary_markdown

    files = {chart.file: chart.render(figures) for chart in CHARTS}
    links = [(chart.file, chart.title) for chart in CHARTS]
    files[SUMMARY_MD] = summary_markdown(figures, links, "daily.csv").encode()
    files["daily.csv"] = daily_csv(figures.daily)
    return files


def _writer_of(data: bytes) -> Callable[[BinaryIO], object]:
    return lambda handle: handle.write(data)


def write_replay_report(
    journal: Journal,
    spx_closes: Mapping[date, float],
    out_dir: Path,
    params: StrategyParams,
    start: date,
    end: date,
    *,
    start_equity: float | None = None,
) -> list[Path]:
    """Write summary.md, daily.csv and the PNG charts of a replay into `out_dir`; return them.

    Each file is written whole to a temporary file and moved over the old one.
    `start_equity` (the replay's starting cash) lets the first day's P&L count.
    """
    if end < start:
        raise ValueError(f"the report's end {end} is before its start {start}")
    ledger = read_ledger(journal, start, end)
    figures = gather_replay_figures(ledger, spx_closes, params, start, end, start_equity)
    files = render_replay_report(figures)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        path = out_dir / name
        write_atomically(path, _writer_of(data))
        written.append(path)
    return written
