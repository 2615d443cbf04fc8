"""summary.md of the replay report, rendered from `ReplayFigures` (no I/O, no clock).

Every section is present even without data, saying "not enough data" and why, so the report of a
short or broken replay still reads. Money is whole USD with a sign; shares in percent.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from bot.replay_report import Decline, ReplayFigures, roll_groups

SUMMARY_MD = "summary.md"
NOT_ENOUGH = "not enough data"


def summary_markdown(
    figures: ReplayFigures, charts: Sequence[tuple[str, str]], daily_csv: str
) -> str:
    """Return summary.md: P&L by engine, drawdowns, R2 band, k, declines, layer cost, rolls."""
    lines = [
        f"# Replay {figures.start.isoformat()} to {figures.end.isoformat()}",
        "",
        "Every figure is read from the replay's journal (equity, structures and their daily "
        "marks, rolls, hedge snapshots); SPX closes come from the market history. "
        f"The daily figures are in [{daily_csv}]({daily_csv}).",
        "",
        *_equity(figures),
        *_drawdown(figures),
        *_band(figures),
        *_hedge(figures),
        *_declines(figures),
        *_layer_cost(figures),
        *_rolls(figures),
        *_biggest(figures),
        *_charts(charts),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


# sections


def _equity(figures: ReplayFigures) -> list[str]:
    lines = ["## Period, equity and P&L by engine", ""]
    t = figures.totals
    if t is None:
        return [*lines, f"{NOT_ENOUGH}: no equity row is journaled inside the period.", ""]
    rows = [
        ("period", f"{figures.start.isoformat()} to {figures.end.isoformat()}"),
        (
            "equity days",
            f"{len(figures.daily)} ({_day(figures.daily.index[0])} to {t.last_day.isoformat()})",
        ),
        (f"start equity (at {t.base_day.isoformat()})", _usd(t.start_equity)),
        (f"end equity (at {t.last_day.isoformat()})", _usd(t.end_equity)),
        ("total P&L", f"{_signed(t.total)} ({_change(t.total / t.start_equity)})"),
        ("condors (front engine)", _signed(t.condor)),
        ("VIX layer (second engine)", _signed(t.layer) if figures.layer_rows else "no positions"),
        ("other (commissions of open structures, interest)", _signed(t.other)),
        *_spx_rows(figures),
    ]
    lines += [*_table(("measure", "value"), rows, "lr"), ""]
    if figures.unmarked:
        lines += [
            f"{figures.unmarked} structure(s) held in the period have no daily mark in the "
            "journal: they count at their open price until closed, so their unrealized P&L "
            'shows under "other".',
            "",
        ]
    if figures.opened_by_kind:
        opened = [(e, k, str(n)) for (e, k), n in figures.opened_by_kind.items()]
        lines += ["Structures opened in the period (a roll's replacement counts):", ""]
        lines += [*_table(("engine", "kind", "opened"), opened, "llr"), ""]
    return lines


def _spx_rows(figures: ReplayFigures) -> list[tuple[str, str]]:
    spx = figures.spx
    if len(spx) < 2:
        return [("SPX over the period", NOT_ENOUGH)]
    first, last = float(spx.iloc[0]), float(spx.iloc[-1])
    return [
        (
            f"SPX {_day(spx.index[0])} to {_day(spx.index[-1])}",
            f"{first:,.2f} to {last:,.2f} ({_change(last / first - 1.0)})",
        )
    ]


def _drawdown(figures: ReplayFigures) -> list[str]:
    lines = ["## Drawdown", ""]
    t = figures.totals
    if t is None:
        return [*lines, f"{NOT_ENOUGH}.", ""]
    rows = [
        (
            "total (net liquidation)",
            f"{_signed(-t.max_drawdown)} ({_change(-t.max_drawdown_pct)})",
            f"{t.drawdown_peak.isoformat()} to {t.drawdown_trough.isoformat()}",
        )
    ]
    if figures.declines:
        d = figures.declines[0].decline
        rows.append(
            ("SPX", _change(d.depth_pct / 100.0), f"{d.peak.isoformat()} to {d.trough.isoformat()}")
        )
    return [*lines, *_table(("series", "deepest drawdown", "peak to trough"), rows, "lrl"), ""]


def _band(figures: ReplayFigures) -> list[str]:
    b = figures.band
    lines = [f"## R2 band ({b.low:.2f}-{b.high:.2f})", ""]
    share = b.inside_share
    if share is None:
        return [
            *lines,
            f"{NOT_ENOUGH}: no R2 is known yet (the rolling window needs "
            f"{figures.params.hedge.r2_window} days of returns).",
            "",
        ]
    rows = [
        ("inside the band", str(b.inside), _pct(share)),
        ("above (k raised)", str(b.above), _pct(b.above / b.known)),
        ("below (k lowered)", str(b.below), _pct(b.below / b.known)),
        ("known days", str(b.known), "100%"),
        ("days with R2 unknown (not counted)", str(b.unknown), ""),
    ]
    return [*lines, *_table(("R2", "days", "share of known days"), rows, "lrr"), ""]


def _hedge(figures: ReplayFigures) -> list[str]:
    lines = ["## Hedge ratio k and backspread ratio", ""]
    h = figures.hedge_summary
    if h is None:
        return [*lines, f"{NOT_ENOUGH}: no rebalance is journaled.", ""]
    ratios = ", ".join(f"1:{n} on {days} days" for n, days in sorted(h.ratio_days.items()))
    rows = [
        ("rebalance days", str(h.days)),
        ("k first / last", f"{h.k_first:.3f} / {h.k_last:.3f}"),
        ("k min / max", f"{h.k_min:.3f} / {h.k_max:.3f}"),
        ("k raised / lowered (days)", f"{h.k_raises} / {h.k_lowerings}"),
        ("effective k min / max", f"{h.k_effective_min:.3f} / {h.k_effective_max:.3f}"),
        ("days with the breadth divergence on", str(h.divergence_days)),
        ("backspread ratio", ratios),
        ("ratio changes", str(h.ratio_changes)),
    ]
    return [*lines, *_table(("measure", "value"), rows, "lr"), ""]


def _declines(figures: ReplayFigures) -> list[str]:
    lines = ["## VIX layer vs condors in the largest SPX declines", ""]
    if not figures.declines:
        return [*lines, f"{NOT_ENOUGH}: no SPX decline in the period's closes.", ""]
    rows = []
    for rank, found in enumerate(figures.declines, start=1):
        d = found.decline
        offset = found.layer_offset
        rows.append(
            (
                str(rank),
                d.peak.isoformat(),
                d.trough.isoformat(),
                _change(d.depth_pct / 100.0),
                _recovered(d),
                _maybe(found.condor),
                _maybe(found.layer),
                _maybe(found.total),
                "-" if offset is None else _pct(offset),
            )
        )
    header = (
        "#",
        "peak",
        "trough",
        "SPX",
        "SPX back at peak",
        "condors",
        "VIX layer",
        "total",
        "layer / condor loss",
    )
    lines += [*_table(header, rows, "rllrlrrrr"), ""]
    lines += [
        "P&L from the peak day's close to the trough day's close; the deepest non-overlapping "
        'declines, found greedily. "layer / condor loss" is how much of the condors\' loss '
        "the layer made back (shown when the condors lost).",
        "",
    ]
    return lines


def _recovered(decline: Decline) -> str:
    return "not in the period" if decline.recovered is None else decline.recovered.isoformat()


def _layer_cost(figures: ReplayFigures) -> list[str]:
    budget_pct = figures.params.hedge.budget_pct
    lines = ["## VIX layer cost per year", ""]
    if not figures.layer_years:
        return [*lines, f"{NOT_ENOUGH}: no layer positions in the journal.", ""]
    rows = [
        (
            str(y.year),
            f"{y.first_day:%m-%d} to {y.last_day:%m-%d}",
            _signed(y.pnl),
            _signed(y.cost),
            _usd(y.premium_paid),
            _usd(y.backspread_credits),
            "-" if y.credits_share is None else _pct(y.credits_share),
            _usd(y.average_nlv),
            _usd(y.budget),
            "-" if y.budget_used is None else _pct(y.budget_used),
        )
        for y in figures.layer_years
    ]
    header = (
        "year",
        "days",
        "layer P&L",
        "net cost",
        "premium paid",
        "backspread credits",
        "credits / premium",
        "average NLV",
        "budget",
        "cost / budget",
    )
    lines += [*_table(header, rows, "llrrrrrrrr"), ""]
    lines += [
        f"Net cost is minus the layer's realized plus unrealized P&L over the calendar year "
        f"(premium decay and roll losses count as cost, hedge gains reduce it). The budget is "
        f"{budget_pct:.1%} of the year's average net liquidation, prorated to the period's "
        "days in the year. Premium paid: opening call blocks, add-ons and backspreads for a "
        "debit; backspread credits: opening backspreads for a credit.",
        "",
    ]
    return lines


def _rolls(figures: ReplayFigures) -> list[str]:
    lines = [f"## Rolls ({len(figures.rolls)})", ""]
    if not figures.rolls:
        return [*lines, "none journaled in the period.", ""]
    groups = roll_groups(figures.rolls)
    rows = [(g.engine.value, g.kind, str(g.count), _signed(g.net_credit)) for g in groups]
    credit = sum(g.net_credit for g in groups)
    rows.append(("all", "", str(len(figures.rolls)), _signed(credit)))
    header = ("engine", "reason", "rolls", "net credit (+) / debit (-)")
    lines += [*_table(header, rows, "llrr"), ""]
    unknown = sum(1 for f in figures.rolls if f.credit is None)
    if unknown:
        lines += [f"{unknown} roll(s) name a structure the journal no longer has: no price.", ""]
    return lines


def _biggest(figures: ReplayFigures) -> list[str]:
    lines = ["## Biggest days", ""]
    for name, table in (("up", figures.up_days), ("down", figures.down_days)):
        lines += [f"### The {len(table)} biggest {name} days", ""]
        if table.empty:
            lines += [f"{NOT_ENOUGH}: no {name} day.", ""]
            continue
        lines += [
            *_table(("day", "total", "condors", "VIX layer", "SPX"), _day_rows(table), "lrrrr"),
            "",
        ]
    return lines


def _day_rows(table: pd.DataFrame) -> list[tuple[str, ...]]:
    return [
        (
            _day(day),
            _signed(float(row["total"])),
            _signed(float(row["condor"])),
            _signed(float(row["layer"])),
            "-" if pd.isna(row["spx_change_pct"]) else _change(float(row["spx_change_pct"]) / 100),
        )
        for day, row in table.iterrows()
    ]


def _charts(charts: Sequence[tuple[str, str]]) -> list[str]:
    lines = ["## Charts", ""]
    for file, title in charts:
        lines += [f"### {title}", "", f"![{title}]({file})", ""]
    return lines


# formatting


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    """Return a Markdown table; `align` has one letter per column, l (left) or r (right)."""
    rule = ["---:" if a == "r" else "---" for a in align]
    return [_row(header), _row(rule), *(_row(row) for row in rows)]


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(" ".join(c.split()).replace("|", "\\|") for c in cells) + " |"


def _day(value: object) -> str:
    return pd.Timestamp(value).date().isoformat()  # type: ignore[arg-type]


def _usd(value: float) -> str:
    return f"{value:,.0f}"


def _signed(value: float) -> str:
    return f"{value:+,.0f}"


def _maybe(value: float | None) -> str:
    return NOT_ENOUGH if value is None else _signed(value)


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def _change(share: float) -> str:
    return f"{share * 100:+.1f}%"
