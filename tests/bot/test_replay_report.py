"""The replay report: figures by engine from a hand-built journal, the charts, summary.md.

The journal spans a year end (2017-12-26 to 2018-01-09, ten trading days) with two condors
(one closed at a loss, one rolled on its tested put side), a VIX futures rung rolled into the
next month, a call block partly closed (split) and a backspread opened for a credit. Every
engine value below is worked out by hand from the marks and closes journaled.
"""

from __future__ import annotations

import itertools
import math
import struct
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.replay_charts import CHARTS, rolls_by_month_png
from bot.replay_ledger import read_ledger
from bot.replay_markdown import summary_markdown
from bot.replay_report import (
    ReplayFigures,
    deepest_declines,
    gather_replay_figures,
    reason_kind,
    roll_groups,
    spx_series,
    write_replay_report,
)
from broker.account import AccountSnapshot
from broker.calendar import NY
from broker.contracts import FutureContract, OptionContract, Right
from broker.orders import Leg, Side
from broker.structures import Engine, Intent, IntentKind, StructureKind
from storage import hedge_snapshots
from storage.hedge_snapshots import HedgeSnapshot
from storage.journal import Journal
from strategies.hedge_state import Signals
from strategies.params import StrategyParams

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DAYS = tuple(
    date.fromisoformat(d)
    for d in (
        "2017-12-26", "2017-12-27", "2017-12-28", "2017-12-29", "2018-01-02",
        "2018-01-03", "2018-01-04", "2018-01-05", "2018-01-08", "2018-01-09",
    )
)  # fmt: skip
START, END = DAYS[0], DAYS[-1]
START_EQUITY = 1_000_000.0
OTHER_PER_DAY = -5.0  # commissions and interest the engines do not explain
# hand-worked engine values at each day's end (realized to date + unrealized at the marks)
CONDOR = np.array([40, 100, 100, -200, -310, -300, -350, -340, -240, -220], dtype=float)
LAYER = np.array([200, 530, 150, 240, -250, 1090, 1170, 870, 1570, 1670], dtype=float)
NLV = START_EQUITY + CONDOR + LAYER + OTHER_PER_DAY * np.arange(1, 11)
SPX_CLOSES = {
    date(2017, 12, 22): 2680.0,
    **dict(zip(DAYS, (2680.0, 2690, 2670, 2600, 2650, 2700, 2720, 2690, 2640, 2660), strict=True)),
}
R2 = (math.nan, math.nan, math.nan, 0.5, 0.7, 0.3, 0.6, 0.66, 0.45, 0.65)
K = (1.0, 1.0, 1.0, 1.0, 1.1, 1.1, 0.99, 0.99, 1.089, 1.089)
RATIO = (2, 2, 2, 3, 3, 3, 2, 2, 2, 2)
DIVERGENCE = (False, False, False, False, True, True, False, False, False, False)
PARAMS = StrategyParams()


def worst_fall(values: list[float]) -> tuple[float, float]:
    """The deepest peak-to-trough fall by brute force over every pair: (value, share)."""
    pairs = [(values[i] - values[j], values[i]) for i in range(len(values))
             for j in range(i, len(values))]  # fmt: skip
    fall, peak = max(pairs, key=lambda pair: (pair[0], -pair[1]))
    return fall, fall / peak if fall > 0 else 0.0


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


def spxw(strike: float, right: Right) -> OptionContract:
    return OptionContract("SPX", "SPXW", date(2018, 2, 16), strike, right)


def vix_call(strike: float) -> OptionContract:
    return OptionContract("VIX", "VIX", date(2018, 3, 21), strike, Right.CALL)


CONDOR_LEGS = (
    Leg(spxw(2600.0, Right.PUT), Side.BUY),
    Leg(spxw(2650.0, Right.PUT), Side.SELL),
    Leg(spxw(2850.0, Right.CALL), Side.SELL),
    Leg(spxw(2900.0, Right.CALL), Side.BUY),
)
ROLLED_LEGS = (
    Leg(spxw(2500.0, Right.PUT), Side.BUY),
    Leg(spxw(2550.0, Right.PUT), Side.SELL),
    *CONDOR_LEGS[2:],
)
RUNG = (Leg(FutureContract("VIX", "VX", date(2018, 2, 14)), Side.BUY),)
NEXT_RUNG = (Leg(FutureContract("VIX", "VX", date(2018, 3, 21)), Side.BUY),)
BLOCK = (Leg(vix_call(25.0), Side.BUY),)
BACKSPREAD = (Leg(vix_call(18.0), Side.SELL), Leg(vix_call(24.0), Side.BUY, 2))


class Book:
    """Writes structures, marks, closes and rolls into a journal with little ceremony."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def _intent(self, kind: IntentKind, engine: Engine, what: StructureKind, moment: datetime,
                legs: tuple[Leg, ...], structure_id: int | None = None) -> int:  # fmt: skip
        intent = Intent(kind, engine, what, legs, 1, 0.0, "test", structure_id)
        return self.journal.record_intent(intent, moment)

    def open(self, engine: Engine, kind: StructureKind, legs: tuple[Leg, ...], qty: int,
             price: float, moment: datetime, multiplier: int = 100) -> int:  # fmt: skip
        return self.journal.open_structure(
            intent_id=self._intent(IntentKind.OPEN, engine, kind, moment, legs),
            engine=engine,
            kind=kind,
            legs=legs,
            quantity=qty,
            open_price=price,
            opened_at=moment,
            multiplier=multiplier,
        )

    def mark(self, structure_id: int, marks: dict[int, float]) -> None:
        for day_index, mark in marks.items():
            self.journal.record_marks({structure_id: mark}, at(DAYS[day_index], 15, 45))

    def roll(self, old: int, engine: Engine, kind: StructureKind, legs: tuple[Leg, ...],
             close: float, new_open: float, moment: datetime, reason: str) -> int:  # fmt: skip
        intent_id = self._intent(IntentKind.ROLL, engine, kind, moment, legs, old)
        _, new = self.journal.roll_structure(
            old, intent_id=intent_id, units=1, close_price=close, new_legs=legs,
            new_open_price=new_open, rolled_at=moment, reason=reason,
            net_price=close + new_open,
        )  # fmt: skip
        return new


def build_journal() -> Journal:
    journal = Journal.in_memory()
    book = Book(journal)
    c, v = Engine.CONDOR, Engine.VIX
    ic = StructureKind.IRON_CONDOR
    # condor 1: 2 units for a 2.00 credit; closed day 4 for 3.50 with 10 of commissions
    c1 = book.open(c, ic, CONDOR_LEGS, 2, -2.0, at(DAYS[0], 10))
    book.mark(c1, {0: -1.8, 1: -1.5, 3: -3.0})
    journal.close_structure(c1, close_price=3.5, closed_at=at(DAYS[4], 11), reason="stop",
                            commissions=10.0)  # fmt: skip
    # condor 2: 1 unit for 1.50 on day 5, rolled on day 7 (close 2.00, new for a 2.20 credit)
    c2 = book.open(c, ic, CONDOR_LEGS, 1, -1.5, at(DAYS[5], 10))
    book.mark(c2, {5: -1.4, 6: -1.9})
    reason = "roll condor #2: short put 2650 at delta -0.31 reached 0.30; close puts 2600/2650"
    c3 = book.roll(c2, c, ic, ROLLED_LEGS, 2.0, -2.2, at(DAYS[7], 10, 15), reason)
    book.mark(c3, {7: -2.0, 8: -1.0, 9: -0.8})
    # VIX rung bought at 14.00 on day 0, rolled on day 6 (sold 15.00, next month at 15.50)
    r1 = book.open(v, StructureKind.FUTURES_RUNG, RUNG, 1, 14.0, at(DAYS[0], 10, 30), 1000)
    book.mark(r1, {0: 14.2, 1: 14.5, 2: 14.1, 4: 13.6, 5: 14.8})
    reason = "roll rung #4: VX 2018-02-14 FUT is 10 trading days from expiry (roll at 10)"
    r2 = book.roll(r1, v, StructureKind.FUTURES_RUNG, NEXT_RUNG, -15.0, 15.5,
                   at(DAYS[6], 10, 15), reason)  # fmt: skip
    book.mark(r2, {6: 15.5, 7: 15.2, 8: 15.9, 9: 16.0})
    # call block: 3 units at 1.00 on day 1; one unit sold for 1.50 on day 4 (a split)
    k1 = book.open(v, StructureKind.CALL_BLOCK, BLOCK, 3, 1.0, at(DAYS[1], 10, 30))
    book.mark(k1, {1: 1.1, 3: 1.4})
    journal.close_structure(k1, close_price=-1.5, closed_at=at(DAYS[4], 10, 30),
                            reason="take profit", units=1)  # fmt: skip
    book.mark(k1, {6: 0.8})
    # backspread 1:2 opened for a 0.30 credit on day 2
    b1 = book.open(v, StructureKind.BACKSPREAD, BACKSPREAD, 2, -0.3, at(DAYS[2], 10, 30))
    book.mark(b1, {2: -0.2, 5: 0.5})
    for n, day in enumerate(DAYS):
        nlv = float(NLV[n])
        journal.record_equity(day, AccountSnapshot("DU1", at(day, 16, 20), nlv, nlv, 0.0))
        signals = Signals(day=day, breadth_divergence=DIVERGENCE[n], r2=R2[n])
        for job, hour in (("signals", 9), ("rebalance", 10)):
            scale = PARAMS.hedge.divergence_k_scale if DIVERGENCE[n] else 1.0
            hedge_snapshots.record(
                journal.engine,
                HedgeSnapshot(at(day, hour, 40 if job == "signals" else 30), day, job, signals,
                              K[n], K[n] * scale, RATIO[n], 1.0),
            )  # fmt: skip
    return journal


@pytest.fixture(scope="module")
def journal() -> Journal:
    return build_journal()


@pytest.fixture(scope="module")
def figures(journal: Journal) -> ReplayFigures:
    ledger = read_ledger(journal, START, END)
    return gather_replay_figures(ledger, SPX_CLOSES, PARAMS, START, END, START_EQUITY)


@pytest.fixture(scope="module")
def written(journal: Journal, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("report") / "out"
    return write_replay_report(
        journal, SPX_CLOSES, out, PARAMS, START, END, start_equity=START_EQUITY
    )


# figures


def test_each_engine_is_realized_closes_plus_unrealized_at_the_daily_marks(
    figures: ReplayFigures,
) -> None:
    daily = figures.daily
    assert list(daily.index.date) == list(DAYS)
    np.testing.assert_allclose(daily["condor_cum"], CONDOR)
    np.testing.assert_allclose(daily["layer_cum"], LAYER)
    np.testing.assert_allclose(daily["condor"], np.diff(CONDOR, prepend=0.0))
    np.testing.assert_allclose(daily["layer"], np.diff(LAYER, prepend=0.0))


def test_the_total_is_net_liquidation_and_other_what_the_engines_leave(
    figures: ReplayFigures,
) -> None:
    np.testing.assert_allclose(figures.daily["total"], np.diff(NLV, prepend=START_EQUITY))
    np.testing.assert_allclose(figures.daily["other"], OTHER_PER_DAY)
    t = figures.totals
    assert t is not None
    assert (t.base_day, t.last_day) == (START - timedelta(days=1), END)
    assert (t.start_equity, t.end_equity) == (START_EQUITY, NLV[-1])
    assert math.isclose(t.total, -220 + 1670 - 50)
    assert (t.condor, t.layer) == pytest.approx((-220.0, 1670.0))
    assert math.isclose(t.other, -50.0)
    assert figures.unmarked == 0 and figures.layer_rows == 5  # the split block is two rows


def test_the_max_drawdown_is_the_deepest_fall_and_has_its_dates(
    figures: ReplayFigures,
) -> None:
    t = figures.totals
    assert t is not None
    dd, dd_pct = worst_fall([START_EQUITY, *NLV])
    assert math.isclose(t.max_drawdown, dd) and math.isclose(t.max_drawdown_pct, dd_pct)
    assert (t.drawdown_peak, t.drawdown_trough) == (DAYS[1], DAYS[4])  # 1_000_620 to 999_415
    assert math.isclose(figures.daily["drawdown"].min(), -dd)


def test_without_a_start_equity_the_first_row_is_the_base(journal: Journal) -> None:
    figures = gather_replay_figures(read_ledger(journal, START, END), {}, PARAMS, START, END)
    daily = figures.daily
    assert math.isnan(daily["total"].iloc[0]) and math.isnan(daily["condor"].iloc[0])
    np.testing.assert_allclose(daily["condor_cum"], CONDOR - CONDOR[0])
    assert figures.totals is not None and figures.totals.start_equity == NLV[0]
    assert figures.declines == () and figures.spx.empty


def test_a_structure_without_daily_marks_counts_at_its_open_price() -> None:
    journal = Journal.in_memory()
    Book(journal).open(Engine.CONDOR, StructureKind.IRON_CONDOR, CONDOR_LEGS, 1, -2.0,
                       at(DAYS[0], 10))  # fmt: skip
    for n, day in enumerate(DAYS[:3]):
        nlv = START_EQUITY + 50.0 * n
        journal.record_equity(day, AccountSnapshot("DU1", at(day, 16, 20), nlv, nlv, 0.0))
    ledger = read_ledger(journal, START, END)
    figures = gather_replay_figures(ledger, SPX_CLOSES, PARAMS, START, END)
    assert (figures.unmarked, figures.layer_rows) == (1, 0)
    np.testing.assert_allclose(figures.daily["condor_cum"], 0.0)
    np.testing.assert_allclose(figures.daily["other"].iloc[1:], 50.0)
    text = summary_markdown(figures, [], "daily.csv")
    assert "1 structure(s) held in the period have no daily mark" in text
    assert "| VIX layer (second engine) | no positions |" in text
    assert "## VIX layer cost per year\n\nnot enough data: no layer positions" in text


def test_daily_marks_keep_the_last_mark_of_each_day_by_structure_then_day() -> None:
    journal = Journal.in_memory()
    book = Book(journal)
    b = book.open(Engine.VIX, StructureKind.CALL_BLOCK, BLOCK, 1, 1.0, at(DAYS[0], 10))
    a = book.open(Engine.CONDOR, StructureKind.IRON_CONDOR, CONDOR_LEGS, 1, -2.0, at(DAYS[0], 10))
    journal.record_marks({b: 1.3, a: -1.0}, at(DAYS[1], 10))
    journal.record_marks({b: 1.4, a: -1.2}, at(DAYS[1], 15))
    journal.record_marks({b: 1.1}, at(DAYS[0], 15))
    assert journal.daily_marks() == [
        (b, DAYS[0], 1.1), (b, DAYS[1], 1.4), (a, DAYS[1], -1.2),
    ]  # fmt: skip


def test_spx_closes_that_are_not_finite_are_left_out() -> None:
    series = spx_series({DAYS[2]: 90.0, DAYS[0]: 100.0, DAYS[1]: math.nan})
    assert list(series) == [100.0, 90.0] and list(series.index.date) == [DAYS[0], DAYS[2]]
    with_gap = pd.Series([100.0, math.nan, 90.0], index=pd.DatetimeIndex(DAYS[:3]))
    (decline,) = deepest_declines(with_gap)
    assert (decline.peak, decline.trough) == (DAYS[0], DAYS[2])
    assert decline.depth_pct == pytest.approx(-10.0)


def test_spx_columns_use_the_closes_given(figures: ReplayFigures) -> None:
    daily = figures.daily
    assert daily["spx_close"].iloc[3] == 2600.0
    assert daily["spx_change_pct"].iloc[0] == 0.0  # against 2017-12-22, before the period
    assert math.isclose(daily["spx_change_pct"].iloc[3], (2600 / 2670 - 1) * 100)
    assert math.isclose(daily["spx_drawdown_pct"].iloc[3], (2600 / 2690 - 1) * 100)
    assert list(figures.spx.index.date) == list(DAYS)  # the close before the start is left out


def test_the_largest_spx_declines_do_not_overlap_and_carry_each_engines_pnl(
    figures: ReplayFigures,
) -> None:
    first, second = figures.declines
    assert (first.decline.peak, first.decline.trough) == (DAYS[1], DAYS[3])
    assert first.decline.recovered == DAYS[5]
    assert math.isclose(first.decline.depth_pct, (2600 / 2690 - 1) * 100)
    assert (first.condor, first.layer) == pytest.approx(
        (CONDOR[3] - CONDOR[1], LAYER[3] - LAYER[1])
    )
    assert first.total is not None and math.isclose(first.total, NLV[3] - NLV[1])
    assert first.layer_offset is not None
    assert math.isclose(first.layer_offset, (LAYER[3] - LAYER[1]) / (CONDOR[1] - CONDOR[3]))
    assert (second.decline.peak, second.decline.trough) == (DAYS[6], DAYS[8])
    assert second.decline.recovered is None
    assert second.condor == pytest.approx(CONDOR[8] - CONDOR[6]) and second.condor > 0
    assert second.layer_offset is None


def test_the_r2_band_share_counts_known_days_only(figures: ReplayFigures) -> None:
    band = figures.band
    assert (band.known, band.inside, band.above, band.below, band.unknown) == (7, 4, 2, 1, 3)
    assert band.inside_share == pytest.approx(4 / 7)
    assert math.isnan(figures.daily["r2"].iloc[0]) and figures.daily["r2"].iloc[3] == 0.5


def test_k_and_the_ratio_are_followed_from_the_rebalances(figures: ReplayFigures) -> None:
    h = figures.hedge_summary
    assert h is not None
    assert (h.days, h.k_first, h.k_last, h.k_min, h.k_max) == (10, 1.0, 1.089, 0.99, 1.1)
    assert (h.k_raises, h.k_lowerings) == (2, 1)
    assert h.k_effective_max == pytest.approx(1.1 * 1.2)
    assert dict(h.ratio_days) == {2: 7, 3: 3} and h.ratio_changes == 2
    assert h.divergence_days == 2
    assert list(figures.daily["ratio"]) == list(RATIO)


def test_the_layer_cost_per_calendar_year_with_credits_and_budget(
    figures: ReplayFigures,
) -> None:
    y2017, y2018 = figures.layer_years
    assert (y2017.year, y2017.first_day, y2017.last_day) == (2017, DAYS[0], DAYS[3])
    assert (y2017.pnl, y2017.cost) == pytest.approx((LAYER[3], -LAYER[3]))
    assert y2017.premium_paid == pytest.approx(300.0)  # the block's 3 units, split; no rung
    assert y2017.backspread_credits == pytest.approx(60.0)
    assert y2017.credits_share == pytest.approx(0.2)
    assert y2017.average_nlv == pytest.approx(NLV[:4].mean())
    assert y2017.budget == pytest.approx(0.03 * NLV[:4].mean() * 6 / 365)
    assert y2018.pnl == pytest.approx(LAYER[-1] - LAYER[3])
    assert (y2018.premium_paid, y2018.backspread_credits, y2018.credits_share) == (0, 0, None)
    assert y2018.budget == pytest.approx(0.03 * NLV[4:].mean() * 9 / 365)
    assert y2018.budget_used == pytest.approx(y2018.cost / y2018.budget)


def test_rolls_are_counted_by_engine_and_reason_kind_with_their_net_credit(
    figures: ReplayFigures,
) -> None:
    condor, vix = roll_groups(figures.rolls)
    assert (condor.engine, condor.kind, condor.count) == (
        Engine.CONDOR, "roll condor, tested put", 1,
    )  # fmt: skip
    assert condor.net_credit == pytest.approx(20.0)  # 0.20 credit x 100 x 1
    assert (vix.engine, vix.kind, vix.count) == (Engine.VIX, "roll rung", 1)
    assert vix.net_credit == pytest.approx(-500.0)  # 0.50 debit x 1000 x 1
    assert [f.day for f in figures.rolls] == [DAYS[6], DAYS[7]]


def test_the_biggest_days_are_ranked_by_the_total(figures: ReplayFigures) -> None:
    total = np.diff(NLV, prepend=START_EQUITY)
    up, down = figures.up_days, figures.down_days
    assert len(up) == int((total > 0).sum()) and len(down) == int((total < 0).sum())
    assert up["total"].iloc[0] == pytest.approx(total.max())
    assert down["total"].iloc[0] == pytest.approx(total.min())
    assert list(up["total"]) == sorted(up["total"], reverse=True)
    best = int(np.argmax(total))
    assert up.index[0].date() == DAYS[best]
    assert up["layer"].iloc[0] == pytest.approx(LAYER[best] - LAYER[best - 1])


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("roll condor #12: short call 2850 at delta +0.31 reached 0.3", "roll condor, tested call"),
        ("roll rung #5: VX 2018-02-14 FUT is 9 trading days", "roll rung"),
        ("roll call_block #7: VIX 2018-03-21 at 30 DTE", "roll call_block"),
        ("operator command #3 (roll 12)", "operator command"),
        ("", "unspecified"),
        ("#42", "unspecified"),
    ],
)
def test_a_roll_reason_kind_drops_numbers_and_details(reason: str, kind: str) -> None:
    assert reason_kind(reason) == kind


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=1.0, max_value=1e4), min_size=0, max_size=60))
def test_spx_declines_are_disjoint_negative_and_deepest_first(closes: list[float]) -> None:
    index = pd.DatetimeIndex(pd.bdate_range("2018-01-01", periods=len(closes)))
    series = pd.Series(closes, index=index, dtype=float)
    found = deepest_declines(series, 5)
    depths = [d.depth_pct for d in found]
    assert all(depth < 0 for depth in depths) and depths == sorted(depths)
    spans = sorted((d.peak, d.trough) for d in found)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))
    if closes:
        worst = max(((a - b) / a for i, a in enumerate(closes) for b in closes[i:]), default=0)
        assert (worst == 0 and not found) or math.isclose(-depths[0] / 100, worst)


# files


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_every_chart_is_a_png_of_a_readable_size(written: list[Path]) -> None:
    names = {path.name for path in written}
    assert names == {chart.file for chart in CHARTS} | {"summary.md", "daily.csv"}
    for chart in CHARTS:
        data = (written[0].parent / chart.file).read_bytes()
        width, height = png_size(data)
        assert 900 <= width <= 2000 and 400 <= height <= 1200, chart.file
    assert not list(written[0].parent.glob(".*.tmp"))  # atomic writes leave no temporary


def test_summary_md_has_every_section_and_links_every_chart(written: list[Path]) -> None:
    text = (written[0].parent / "summary.md").read_text()
    for heading in (
        "# Replay 2017-12-26 to 2018-01-09",
        "## Period, equity and P&L by engine",
        "## Drawdown",
        "## R2 band (0.45-0.65)",
        "## Hedge ratio k and backspread ratio",
        "## VIX layer vs condors in the largest SPX declines",
        "## VIX layer cost per year",
        "## Rolls (2)",
        "## Biggest days",
        "## Charts",
    ):
        assert f"\n{heading}\n" in f"\n{text}", heading
    for chart in CHARTS:
        assert f"]({chart.file})" in text
    assert "| total P&L | +1,400 (+0.1%) |" in text
    assert "| condors (front engine) | -220 |" in text
    assert "| inside the band | 4 | 57.1% |" in text
    assert "| 2017 | 12-26 to 12-29 | +240 | -240 | 300 | 60 | 20.0% |" in text
    assert "| condor | roll condor, tested put | 1 | +20 |" in text
    assert "not enough data" not in text


def test_daily_csv_holds_the_daily_figures(written: list[Path]) -> None:
    table = pd.read_csv(written[0].parent / "daily.csv", index_col="day")
    assert list(table.index) == [d.isoformat() for d in DAYS]
    np.testing.assert_allclose(table["layer_cum"], LAYER)
    np.testing.assert_allclose(table["net_liquidation"], NLV)


def test_the_same_figures_give_the_same_bytes(figures: ReplayFigures, written: list[Path]) -> None:
    folder = written[0].parent
    links = [(c.file, c.title) for c in CHARTS]
    assert summary_markdown(figures, links, "daily.csv") == (folder / "summary.md").read_text()
    assert rolls_by_month_png(figures) == (folder / "rolls_by_month.png").read_bytes()


def test_an_empty_journal_reports_not_enough_data(tmp_path: Path) -> None:
    written = write_replay_report(Journal.in_memory(), {}, tmp_path, PARAMS, START, END)
    text = (tmp_path / "summary.md").read_text()
    for section in ("## Period", "## Drawdown", "## R2 band", "## Hedge ratio", "## VIX layer vs",
                    "## VIX layer cost per year"):  # fmt: skip
        body = text.split(section, 1)[1].split("\n## ", 1)[0]
        assert "not enough data" in body, section
    assert "## Rolls (0)" in text
    for path in written:
        if path.suffix == ".png":
            assert png_size(path.read_bytes())[0] >= 900


def test_a_period_ending_before_it_starts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="before its start"):
        write_replay_report(Journal.in_memory(), {}, tmp_path, PARAMS, END, START)
