"""Replay speed: the ALVH engine over history against backtrader on the same days, in one run.

Run: python bench/replay.py [--start 2014-01-02] [--end 2018-12-31] [--skip-ours]

1. Ours: `bot.replay.replay` (the command `alvh replay` runs) over [start, end] with the default
   config and the daily logs off: the same engine, jobs, executor, risk checks and SQLite
   journal as the daemon, on the simulated exchange, at pace 0. Reported: engine cycles (one
   `TradingEngine.run_job` call each: reconcile, signals, entry, rolls, hedge, management,
   daily close), the engine's wall time (set-up and loading the history excluded), cycles per
   second and the wall time of the whole command.
2. backtrader: a MACD(12, 26, 9) crossover strategy on SPX daily bars of the same days (the
   simulator's own history, fed as a pandas frame), with its broker and analyzers off: the
   fastest a classic event-driven backtester runs a daily strategy. Reported: bars per second.

The two do different amounts of work per step (ours: a 15-minute engine cycle quotes options,
reprices a scenario, journals marks in SQLite; backtrader: one daily bar through an indicator),
so the ratio says how far the engine is from a bar loop, not that either is wrong. Targets from
the issue: 5,000 engine cycles per second and the 2014-2018 replay in under 15 s.

3. The pricing floor: what the simulator alone costs per management cycle. A cycle values the
   account and marks the book at a new instant, so every held leg is priced once (the simulator
   memoizes quotes within an instant): here a typical book (a condor's 4 SPX options 45-60
   days out, 3 VIX calls of the second month, 3 VIX futures) is priced at 750 successive
   15-minute instants (about 30 sessions, none of them expired meanwhile).
   Reported: microseconds per instant and the cycles per second the engine could reach if
   everything else it does (journal, decisions, risk checks, scheduling) cost nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tables import print_table, verdict  # noqa: E402

TARGET_CYCLES_PER_SECOND = 5_000.0
TARGET_SECONDS = 15.0


def run_ours(start: date, end: date) -> tuple[int, float, float, int]:
    """Return (cycles, engine seconds, command seconds, days) of a replay."""
    import structlog

    from bot.config import load_config
    from bot.replay import replay

    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(40)
    )  # errors only: logging is not what is measured
    config = load_config(ROOT / "config" / "default.toml")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        summary = asyncio.run(replay(config, start, end, Path(folder) / "bench.sqlite"))
    total = time.perf_counter() - began
    return summary.cycles, summary.wall_seconds, total, summary.days


def run_backtrader(start: date, end: date) -> tuple[int, float] | None:
    """Return (bars, seconds) of a MACD crossover over SPX daily bars, or None without it."""
    try:
        import backtrader as bt
    except ImportError:
        return None
    import pandas as pd

    from broker.sim.history import DailyHistory

    history = DailyHistory.from_arch(start, end)
    days = history.days()
    bars = [history.bar(d) for d in days]
    frame = pd.DataFrame(
        {
            "open": [b.open for b in bars],
            "high": [b.high for b in bars],
            "low": [b.low for b in bars],
            "close": [b.close for b in bars],
            "volume": [0.0] * len(bars),
        },
        index=pd.to_datetime(days),
    )

    class MacdCross(bt.Strategy):  # type: ignore[misc]
        def __init__(self) -> None:
            macd = bt.indicators.MACD(
                self.data.close, period_me1=12, period_me2=26, period_signal=9
            )
            self.cross = bt.indicators.CrossOver(macd.macd, macd.signal)

        def next(self) -> None:
            if self.cross > 0 and not self.position:
                self.buy()
            elif self.cross < 0 and self.position:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.addstrategy(MacdCross)
    began = time.perf_counter()
    cerebro.run()
    return len(frame), time.perf_counter() - began


def run_pricing_floor(start: date, instants: int = 750) -> tuple[int, float]:
    """Return (instants, seconds) to price a typical held book at successive instants."""
    from datetime import datetime, timedelta

    from broker.calendar import NY, default_calendar
    from broker.contracts import FutureContract, OptionContract, Right
    from broker.sim.history import DailyHistory
    from broker.sim.market import MarketModel, SimMarket

    calendar = default_calendar()
    market = SimMarket(DailyHistory.from_arch(), calendar, MarketModel())
    day = calendar.trading_days(start, start + timedelta(days=10))[0]
    spx, _ = market.levels(datetime.combine(day, datetime.min.time(), tzinfo=NY))
    atm = round(spx / 5) * 5
    spx_expiry = calendar.spxw_expiries(day + timedelta(days=45), day + timedelta(days=60))[0]
    vix_expiries = market.listings.future_expiries(
        "VIX", "VX", datetime.combine(day, datetime.min.time(), tzinfo=NY)
    )[1:4]
    condor = [
        OptionContract("SPX", "SPXW", spx_expiry, atm + offset, right)
        for offset, right in (
            (-150, Right.PUT),
            (-200, Right.PUT),
            (100, Right.CALL),
            (150, Right.CALL),
        )
    ]
    calls = [
        OptionContract("VIX", "VIX", vix_expiries[1], k, Right.CALL) for k in (22.0, 25.0, 30.0)
    ]
    futures = [FutureContract("VIX", "VX", e) for e in vix_expiries]
    sessions = [
        s
        for d in calendar.trading_days(day, day + timedelta(days=45))
        if (s := calendar.session(d))
    ]
    moments = [
        session.open + timedelta(minutes=15 * i)
        for session in sessions
        for i in range(1, int((session.close - session.open).total_seconds() // 900))
    ][:instants]
    began = time.perf_counter()
    for now in moments:
        market.option_quotes(condor + calls, now)
        market.future_quotes(futures, now)
    return len(moments), time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--start", type=date.fromisoformat, default=date(2014, 1, 2))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2018, 12, 31))
    parser.add_argument("--skip-ours", action="store_true", help="only time backtrader")
    args = parser.parse_args()
    rows: list[list[str]] = []
    bt_result = run_backtrader(args.start, args.end)
    if bt_result is None:
        rows.append(["backtrader", "not installed", "-", "-", "-"])
    else:
        bars, seconds = bt_result
        rows.append(
            [
                "backtrader MACD cross",
                f"{bars:,} bars",
                f"{seconds:.3f} s",
                f"{bars / seconds:,.0f}/s",
                "",
            ]
        )
    if not args.skip_ours:
        cycles, engine_s, total_s, days = run_ours(args.start, args.end)
        rate = cycles / engine_s if engine_s else 0.0
        ok = rate >= TARGET_CYCLES_PER_SECOND and total_s < TARGET_SECONDS
        rows.insert(
            0,
            [
                "ALVH engine (alvh replay)",
                f"{cycles:,} cycles / {days:,} days",
                f"{engine_s:.1f} s engine, {total_s:.1f} s command",
                f"{rate:,.0f} cycles/s",
                verdict(ok),
            ],
        )
    instants, seconds = run_pricing_floor(args.start)
    per = seconds / instants
    rows.append(
        [
            "pricing floor (simulator)",
            f"{instants:,} instants x 10 contracts",
            f"{per * 1e6:,.0f} us per instant",
            f"<= {1 / per:,.0f} cycles/s",
            "",
        ]
    )
    print_table(
        f"Replay {args.start} .. {args.end}",
        ["contender", "work", "time", "speed", "target"],
        rows,
        note=f"Targets: {TARGET_CYCLES_PER_SECOND:,.0f} engine cycles/s and the replay under "
        f"{TARGET_SECONDS:.0f} s.",
    )


if __name__ == "__main__":
    main()
