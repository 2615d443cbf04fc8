"""Greeks computed locally when IB sends none (or NaN ones), with the simulator's pricing code.

Modeling choices:
- SPX options (trading classes SPX and SPXW) are priced by Black-Scholes-Merton on the SPX
  index level with a continuous dividend yield; VIX options by Black-76 on the VIX future of
  the same expiry (the VIX index is not tradable and is not the options' underlying).
- The implied vol is solved from the quote's mid (`broker.pricing.implied_vol_*`); a quote
  whose book is not sane has no mid, so it gets NaN greeks and is never traded on.
- Time to expiry is counted in years of 365 days up to the settlement instant: SPXW at 16:00 ET
  on the expiry day, SPX monthlies (AM-settled) and VIX options at 09:30 ET (the opening
  settlement). Early closes (13:15) are ignored: under three hours on a few days a year.
- The rate and the dividend yield come from `[ib] greeks_rate` and `greeks_dividend_yield`.
- Units are `broker.pricing`'s, like the simulator's: vega per 1.00 of vol, theta per year.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

import numpy as np

from broker.contracts import SPX, FutureContract, IndexContract, OptionContract, Right
from broker.market import Greeks, OptionQuote
from broker.pricing import (
    FloatArray,
    black76_greeks,
    bs_greeks,
    implied_vol_black76,
    implied_vol_bs,
)
from broker.settlement import years_to_settlement as years_until

NAN_GREEKS = Greeks(math.nan, math.nan, math.nan, math.nan, math.nan)


def years_to_settlement(contracts: Sequence[OptionContract], now: datetime) -> FloatArray:
    """Return the years (of 365 days) from `now` to each contract's settlement, at least 0."""
    return np.asarray([years_until(c, now) for c in contracts], dtype=np.float64)


def underlying_of(contract: OptionContract) -> IndexContract | FutureContract | None:
    """Return what an option's greeks are computed on, or None for an unsupported class."""
    if contract.symbol == "SPX":
        return SPX
    if contract.symbol == "VIX":
        return FutureContract("VIX", "VX", contract.expiry)
    return None


def greeks_from_mid(
    contracts: Sequence[OptionContract],
    mids: Sequence[float],
    underlyings: Sequence[float],
    now: datetime,
    rate: float,
    dividend_yield: float,
) -> list[Greeks]:
    """Return greeks implied by each option's mid and underlying (NaN where none can be).

    Units are broker.pricing's: vega per 1.00 of vol, theta per year.
    """
    out = [NAN_GREEKS] * len(contracts)
    t = years_to_settlement(contracts, now)
    price = np.asarray(mids, dtype=np.float64)
    under = np.asarray(underlyings, dtype=np.float64)
    strike = np.array([c.strike for c in contracts], dtype=np.float64)
    is_call = np.array([c.right is Right.CALL for c in contracts], dtype=bool)
    for symbol in ("SPX", "VIX"):
        idx = np.array([i for i, c in enumerate(contracts) if c.symbol == symbol], dtype=np.intp)
        if idx.size == 0:
            continue
        p, u, k, tt, call = price[idx], under[idx], strike[idx], t[idx], is_call[idx]
        if symbol == "SPX":
            vol = implied_vol_bs(p, u, k, tt, rate, dividend_yield, call)
            g = bs_greeks(u, k, tt, rate, dividend_yield, vol, call)
        else:
            vol = implied_vol_black76(p, u, k, tt, rate, call)
            g = black76_greeks(u, k, tt, rate, vol, call)
        for j, i in enumerate(idx.tolist()):
            out[i] = Greeks(
                float(vol[j]),
                float(g.delta[j]),
                float(g.gamma[j]),
                float(g.vega[j]),
                float(g.theta[j]),
            )
    return out


def fill_missing_greeks(
    quotes: Sequence[OptionQuote],
    underlying_prices: Mapping[str, float],
    now: datetime,
    rate: float,
    dividend_yield: float,
) -> list[OptionQuote]:
    """Return the quotes with local greeks wherever IB's were missing or not finite.

    The underlying is the quote's own (IB's undPrice) when it is a usable price, else
    `underlying_prices[underlying_of(contract).key]`; quotes with finite greeks are unchanged.
    """
    missing = [i for i, q in enumerate(quotes) if not q.greeks.is_finite()]
    if not missing:
        return list(quotes)
    contracts = [quotes[i].contract for i in missing]
    underlyings = [_underlying_price(quotes[i], underlying_prices) for i in missing]
    greeks = greeks_from_mid(
        contracts, [quotes[i].quote.mid for i in missing], underlyings, now, rate, dividend_yield
    )
    out = list(quotes)
    for i, g, u in zip(missing, greeks, underlyings, strict=True):
        out[i] = replace(quotes[i], greeks=g, underlying_price=u)
    return out


def _underlying_price(quote: OptionQuote, prices: Mapping[str, float]) -> float:
    own = quote.underlying_price
    if math.isfinite(own) and own > 0:
        return own
    underlying = underlying_of(quote.contract)
    return prices.get(underlying.key, math.nan) if underlying is not None else math.nan
