"""Draw the charts of docs/market-model.md from the simulator itself (`make docs`).

Every chart is computed by the same code the simulated exchange uses: the history with its VIX
proxy and synthetic breadth, SimMarket's quotes, the futures curve. Output: docs/img/*.png.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np

from broker.calendar import NY, default_calendar
from broker.contracts import FutureContract, OptionContract, Right
from broker.sim.history import DailyHistory
from broker.sim.market import MarketModel, SimMarket
from broker.sim.vix_proxy import arch_vix_proxy, proxy_overlap_frame

OUT = Path(__file__).resolve().parent / "img"
CALM = date(2017, 6, 15)
STRESS = (date(2018, 2, 5), date(2018, 2, 6))


def at(day: date, hour: int = 15, minute: int = 45) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


def vix_proxy_chart(history: DailyHistory) -> Path:
    frame = proxy_overlap_frame()
    _, fit = arch_vix_proxy()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), gridspec_kw={"width_ratios": [3, 1.3, 3]})
    ax = axes[0]
    ax.plot(frame.index, frame["real"], lw=0.9, label="VIX (real close)")
    ax.plot(frame.index, frame["proxy"], lw=0.9, label="proxy (GJR-GARCH, mapped)")
    ax.axvspan(datetime(2017, 1, 1), frame.index[-1], color="grey", alpha=0.12, label="hold-out")
    ax.set_title("Overlap 2014-2018: real VIX vs proxy")
    ax.set_ylabel("VIX")
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[1]
    ax.scatter(frame["real"], frame["proxy"], s=3, alpha=0.4)
    top = float(max(frame["real"].max(), frame["proxy"].max())) + 2
    ax.plot([8, top], [8, top], color="black", lw=0.8)
    ax.set_xlabel("real VIX")
    ax.set_ylabel("proxy")
    ax.set_title("daily levels, 45-degree line")
    ax = axes[2]
    days = history.days()
    vix = np.array([history.bar(d).vix_close for d in days])
    proxy = np.array([history.bar(d).vix_is_proxy for d in days])
    dts = [datetime.combine(d, time()) for d in days]
    ax.plot(np.array(dts)[proxy], vix[proxy], lw=0.6, color="tab:orange", label="proxy")
    ax.plot(np.array(dts)[~proxy], vix[~proxy], lw=0.6, color="tab:blue", label="real")
    ax.set_title("VIX in the simulator, 1999-2018")
    ax.legend(loc="upper right", fontsize=8)
    o = fit.in_sample
    fig.suptitle(
        f"VIX proxy fit on the overlap: R2 {o.r2:.2f}, RMSE {o.rmse:.2f} points, "
        f"daily-change correlation {o.change_corr:.2f}"
    )
    for a in (axes[0], axes[2]):
        a.xaxis.set_major_locator(mdates.YearLocator(base=1 if a is axes[0] else 3))
        a.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    return save(fig, "vix_proxy.png")


def futures_chart(market: SimMarket) -> Path:
    fig, ax = plt.subplots(figsize=(9, 5))
    for day, style in ((CALM, "-o"), (STRESS[0], "-s"), (STRESS[1], "-^")):
        now = at(day)
        expiries = market.listings.future_expiries("VIX", "VX", now)
        quotes = market.future_quotes([FutureContract("VIX", "VX", e) for e in expiries], now)
        _, vix = market.levels(now)
        dte = [0] + [(e - day).days for e in expiries]
        prices = [vix] + [q.mid for q in quotes]
        ax.plot(dte, prices, style, label=f"{day} 15:45 (VIX {vix:.1f})")
    ax.set_xlabel("calendar days to expiry (0 = spot VIX)")
    ax.set_ylabel("VIX future (mid)")
    ax.set_title("VIX futures curve M1..M8: contango when calm, backwardation in stress")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, "vix_futures_curve.png")


def smile_chart(market: SimMarket) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(14, 5), sharey=False)
    for ax, day in zip(axes, (CALM, STRESS[1]), strict=True):
        now = at(day, 10, 0)
        spx, vix = market.levels(now)
        expiries = market.listings.option_expiries("SPX", "SPXW", now)
        for target in (7, 30, 90):
            expiry = min(expiries, key=lambda e, t=target: abs((e - day).days - t))
            strikes = [
                k
                for k in market.listings.option_strikes("SPX", spx)
                if 0.75 * spx <= k <= 1.1 * spx
            ]
            contracts = [
                OptionContract("SPX", "SPXW", expiry, k, Right.PUT if k < spx else Right.CALL)
                for k in strikes
            ]
            quotes = market.option_quotes(contracts, now)
            ivs = [100 * q.greeks.iv for q in quotes]
            ax.plot(np.array(strikes) / spx, ivs, label=f"{(expiry - day).days} days ({expiry})")
        ax.axvline(1.0, color="grey", lw=0.6)
        ax.set_title(f"{day} 10:00: SPX {spx:,.0f}, VIX {vix:.1f}")
        ax.set_xlabel("strike / spot")
        ax.set_ylabel("implied volatility (%)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("SPX smile in the simulator: calm (left) and stressed (right)")
    return save(fig, "spx_smile.png")


def breadth_chart(history: DailyHistory) -> Path:
    days = [d for d in history.days() if date(2017, 1, 1) <= d <= date(2018, 12, 31)]
    adv = np.array([history.bar(d).advances for d in days], dtype=float)
    dec = np.array([history.bar(d).declines for d in days], dtype=float)
    spx = np.array([history.bar(d).close for d in days])
    dts = [datetime.combine(d, time()) for d in days]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    ax.plot(dts, np.cumsum(adv - dec), color="tab:green", lw=0.9, label="AD line (synthetic)")
    ax.set_ylabel("cumulative advances - declines")
    twin = ax.twinx()
    twin.plot(dts, spx, color="tab:blue", lw=0.9, label="SPX")
    twin.set_ylabel("SPX")
    ax.set_title(f"NYSE breadth (source: {history.breadth_source.upper()}) against SPX, 2017-2018")
    lines = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(lines, ["AD line (synthetic)", "SPX"], loc="upper left")
    return save(fig, "breadth_synthetic.png")


def book_chart(market: SimMarket) -> Path:
    fig, ax = plt.subplots(figsize=(9, 5))
    for day in (CALM, STRESS[1]):
        now = at(day, 10, 0)
        spx, vix = market.levels(now)
        expiries = market.listings.option_expiries("SPX", "SPXW", now)
        expiry = min(expiries, key=lambda e: abs((e - day).days - 45))
        strikes = [k for k in market.listings.option_strikes("SPX", spx) if 0.7 * spx <= k <= spx]
        puts = [OptionContract("SPX", "SPXW", expiry, k, Right.PUT) for k in strikes]
        quotes = market.option_quotes(puts, now)
        deltas = [-q.greeks.delta for q in quotes]
        widths = [q.quote.ask - q.quote.bid for q in quotes]
        ax.plot(deltas, widths, label=f"{day} (VIX {vix:.1f}), {(expiry - day).days}-day puts")
    ax.set_xlabel("|delta|")
    ax.set_ylabel("bid-ask width (points)")
    ax.set_title("Modeled SPX put spreads by delta: wider in stress")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, "spx_put_spreads.png")


def save(fig: plt.Figure, name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> int:
    history = DailyHistory.from_arch()
    market = SimMarket(history, default_calendar(), MarketModel())
    for path in (
        vix_proxy_chart(history),
        futures_chart(market),
        smile_chart(market),
        breadth_chart(history),
        book_chart(market),
    ):
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
