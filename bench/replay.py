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
    print_table(
        f"Replay {args.start} .. {args.end}",
        ["contender", "work", "time", "speed", "target"],
        rows,
        note=f"Targets: {TARGET_CYCLES_PER_SECOND:,.0f} engine cycles/s and the replay under "
        f"{TARGET_SECONDS:.0f} s.",
    )


if __name__ == "__main__":
    main()
