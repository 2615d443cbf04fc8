"""Which VIX contract each part trades: ladder months, the call expiry, block and backspread.

- Trading days to an expiry count the sessions after today up to and including the expiry
  day (`snapshot.sessions`); past the last listed session, weekdays are counted (numpy
  business days, holidays unknown there).
- Ladder months: month m is the m-th of the listed futures that have more than
  rung_roll_days trading days to expiry, so a future inside its roll window is never bought.
- Call expiry: the VIX option expiry nearest the middle of [call_min_dte, call_max_dte]
  (90 DTE by default), the earlier on a tie.
- Call block (and add-on): the usable call whose delta is nearest call_delta; its strike is
  clamped into [call_strike_min, call_strike_max] and the usable call nearest the clamped
  strike (the lower on a tie) is bought; none inside the window is a skip.
- Backspread: sell 1 call at the usable strike nearest the future of that expiry (the chain's
  `underlying_price`; the lower on a tie), buy N calls at the usable strike above it whose
  delta is nearest backspread_long_delta. Per unit that is N - 1 >= 0 calls net long.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from broker.contracts import Right
from broker.market import FutureQuote, MarketSnapshot, OptionChain, OptionQuote
from broker.orders import Leg, Side
from strategies.expiry import choose_expiry, days_to_expiry
from strategies.params import VixLayerParams
from strategies.strikes import nearest_delta

ONE_DAY = timedelta(days=1)


def trading_days_to(expiry: date, today: date, sessions: Sequence[date]) -> int | None:
    """Return the trading days after `today` up to `expiry`, or None with no session list."""
    if not sessions:
        return None
    counted = sum(1 for day in sessions if today < day <= expiry)
    last = max(sessions[-1], today)
    if expiry > last:  # beyond the listed sessions: weekdays in (last, expiry]
        counted += int(np.busday_count(last + ONE_DAY, expiry + ONE_DAY))
    return counted


def rollable_futures(
    snapshot: MarketSnapshot, today: date, params: VixLayerParams
) -> tuple[FutureQuote, ...] | str:
    """Return the listed futures beyond the roll window, ascending, or why there are none."""
    if not snapshot.futures:
        return "no VIX futures listed in the snapshot"
    if not snapshot.sessions:
        return "no trading sessions in the snapshot: cannot count days to expiry"
    ordered = sorted(snapshot.futures, key=lambda f: f.contract.expiry)
    return tuple(
        f
        for f in ordered
        if (trading_days_to(f.contract.expiry, today, snapshot.sessions) or 0)
        > params.rung_roll_days
    )


def ladder_futures(
    snapshot: MarketSnapshot, today: date, params: VixLayerParams
) -> dict[int, FutureQuote] | str:
    """Return the future of each ladder month (month -> quote), or why the ladder is incomplete."""
    eligible = rollable_futures(snapshot, today, params)
    if isinstance(eligible, str):
        return eligible
    missing = [m for m in params.ladder_months if m > len(eligible)]
    if missing:
        return (
            f"only {len(eligible)} VIX futures listed beyond {params.rung_roll_days} trading "
            f"days; the ladder wants months {', '.join(map(str, params.ladder_months))}"
        )
    return {m: eligible[m - 1] for m in params.ladder_months}


def call_expiry(snapshot: MarketSnapshot, today: date, params: VixLayerParams) -> date | str:
    """Return the VIX option expiry the call parts use, or why there is none."""
    middle = (params.call_min_dte + params.call_max_dte) // 2
    expiry = choose_expiry(
        snapshot.vix_chains, today, middle, params.call_min_dte, params.call_max_dte
    )
    if expiry is None:
        return (
            f"no VIX option chain within {params.call_min_dte}-{params.call_max_dte} DTE "
            f"({len(snapshot.vix_chains)} chains in the snapshot)"
        )
    return expiry


def usable_calls(chain: OptionChain) -> list[OptionQuote]:
    """Return the chain's calls with a sane market and finite greeks."""
    return [q for q in chain.side(Right.CALL) if q.problem() is None]


@dataclass(frozen=True, slots=True)
class BlockChoice:
    """The call a block (or an add-on) buys, and how it was found."""

    quote: OptionQuote
    delta_strike: float  # the strike nearest call_delta, before the clamp
    clamped: float  # that strike clamped into the window
    dte: int

    def describe(self, params: VixLayerParams) -> str:
        c = self.quote.contract
        text = f"VIX {c.expiry} C{c.strike:g} ({self.dte} DTE, delta {self.quote.greeks.delta:.2f}"
        if self.delta_strike != c.strike:
            text += (
                f"; the {params.call_delta:.2f}-delta strike {self.delta_strike:g} clamped "
                f"into {params.call_strike_min:g}-{params.call_strike_max:g}"
            )
        return text + ")"


def block_call(chain: OptionChain, today: date, params: VixLayerParams) -> BlockChoice | str:
    """Return the block's call in `chain`, or why none fits."""
    calls = usable_calls(chain)
    by_delta = nearest_delta(calls, params.call_delta)
    if by_delta is None:
        return f"no usable call quotes (sane market, finite greeks) in the VIX {chain.expiry} chain"
    delta_strike = by_delta.contract.strike
    clamped = min(max(delta_strike, params.call_strike_min), params.call_strike_max)
    chosen = min(calls, key=lambda q: (abs(q.contract.strike - clamped), q.contract.strike))
    strike = chosen.contract.strike
    if not params.call_strike_min <= strike <= params.call_strike_max:
        return (
            f"no usable VIX {chain.expiry} call strike inside "
            f"{params.call_strike_min:g}-{params.call_strike_max:g} (nearest to {clamped:g} "
            f"is {strike:g})"
        )
    return BlockChoice(chosen, delta_strike, clamped, days_to_expiry(chain.expiry, today))


def block_legs(choice: BlockChoice) -> tuple[Leg, ...]:
    return (Leg(choice.quote.contract, Side.BUY),)


def chain_future(calls: Sequence[OptionQuote]) -> float | None:
    """Return the future price the chain's quotes were computed at, or None when unknown."""
    prices = [q.underlying_price for q in calls if math.isfinite(q.underlying_price)]
    prices = [p for p in prices if p > 0]
    return float(np.median(prices)) if prices else None


@dataclass(frozen=True, slots=True)
class BackspreadChoice:
    """The 1:N backspread's short and long calls."""

    short: OptionQuote
    long: OptionQuote
    ratio: int
    future: float
    dte: int

    @property
    def legs(self) -> tuple[Leg, ...]:
        return (
            Leg(self.short.contract, Side.SELL),
            Leg(self.long.contract, Side.BUY, self.ratio),
        )

    def describe(self) -> str:
        s, lg = self.short, self.long
        return (
            f"1:{self.ratio} VIX {s.contract.expiry} ({self.dte} DTE, future {self.future:.2f}): "
            f"sell C{s.contract.strike:g} (delta {s.greeks.delta:.2f}), buy {self.ratio} "
            f"C{lg.contract.strike:g} (delta {lg.greeks.delta:.2f})"
        )


def backspread_calls(
    chain: OptionChain, ratio: int, today: date, params: VixLayerParams
) -> BackspreadChoice | str:
    """Return the backspread's calls in `chain` at 1:`ratio`, or why none fits."""
    if ratio < 1:
        return f"ratio 1:{ratio} is not a backspread (N must be at least 1)"
    calls = usable_calls(chain)
    future = chain_future(calls)
    if future is None:
        return f"no usable call quotes with a future price in the VIX {chain.expiry} chain"
    short = min(calls, key=lambda q: (abs(q.contract.strike - future), q.contract.strike))
    above = [q for q in calls if q.contract.strike > short.contract.strike]
    long = nearest_delta(above, params.backspread_long_delta)
    if long is None:
        return (
            f"no usable VIX {chain.expiry} call above the short C{short.contract.strike:g} to buy"
        )
    return BackspreadChoice(short, long, ratio, future, days_to_expiry(chain.expiry, today))
