"""Iron condor entry: short strikes at the target delta, wings further out, sized by max loss.

Before any strike is chosen the entry checks, in order: the number of condors open, one condor per
entry window, and the macro event blackout (`strategies.condor_blackout`, when
`params.event_blackout` is on: no new condor on the trading day before or the day of a CPI, PPI
or FOMC event).
"""

from __future__ import annotations

from datetime import datetime

from broker.contracts import Right
from broker.market import MarketSnapshot, OptionChain, OptionQuote
from broker.orders import Leg, Side
from broker.structures import Engine, Intent, IntentKind, StructureKind
from strategies.condor_blackout import blackout_reason
from strategies.decision import Decision, PortfolioState, skip
from strategies.expiry import choose_expiry, days_to_expiry
from strategies.params import CondorParams
from strategies.sizing import units_within_risk
from strategies.strikes import nearest_delta, pick_wing, wing_rule

ACTION = "open condor"


def propose_condor(
    snapshot: MarketSnapshot, state: PortfolioState, params: CondorParams, now: datetime
) -> Decision:
    """Return an intent to open one iron condor, or the reason none is opened now."""
    open_condors = state.open_of(Engine.CONDOR)
    if len(open_condors) >= params.max_open:
        return skip(ACTION, f"{len(open_condors)} condors open, the limit is {params.max_open}")
    today = now.date()
    if any(s.opened_at.astimezone(now.tzinfo).date() == today for s in open_condors):
        return skip(ACTION, "a condor was already opened in this entry window")
    if params.event_blackout:
        blackout = blackout_reason(state.events, today, snapshot.sessions)
        if blackout is not None:
            return skip(ACTION, blackout)
    expiry = choose_expiry(
        snapshot.expiries, today, params.target_dte, params.min_dte, params.max_dte
    )
    if expiry is None:
        return skip(ACTION, f"no listed expiry within {params.min_dte}-{params.max_dte} DTE")
    chain = snapshot.chains.get(expiry)
    if chain is None or not chain.quotes:
        return skip(ACTION, f"no option chain for {expiry}")
    legs = _pick_legs(chain, params)
    if isinstance(legs, str):
        return skip(ACTION, legs)
    return _condor_intent(legs, state, params, days_to_expiry(expiry, today))


def _pick_legs(chain: OptionChain, params: CondorParams) -> tuple[OptionQuote, ...] | str:
    """Return (short put, long put, short call, long call) or why they cannot be chosen."""
    puts, calls = chain.side(Right.PUT), chain.side(Right.CALL)
    short_put = nearest_delta(puts, params.short_delta)
    short_call = nearest_delta(calls, params.short_delta)
    if short_put is None or short_call is None:
        return f"no usable quotes near |delta| {params.short_delta} in the {chain.expiry} chain"
    sp_strike, sc_strike = short_put.contract.strike, short_call.contract.strike
    if sp_strike >= sc_strike:
        return f"short put {sp_strike:g} is not below short call {sc_strike:g}: chain is unusable"
    delta, width = params.wing_delta, params.wing_width
    below = (q for q in puts if q.contract.strike < sp_strike)
    above = (q for q in calls if q.contract.strike > sc_strike)
    long_put = pick_wing(below, short_put, delta, width)
    long_call = pick_wing(above, short_call, delta, width)
    if long_put is None or long_call is None:
        return f"no usable wing strike near {wing_rule(delta, width)} beyond the shorts"
    return short_put, long_put, short_call, long_call


def _condor_intent(
    picked: tuple[OptionQuote, ...], state: PortfolioState, params: CondorParams, dte: int
) -> Decision:
    short_put, long_put, short_call, long_call = picked
    credit = short_put.quote.mid + short_call.quote.mid - long_put.quote.mid - long_call.quote.mid
    if credit <= 0:
        return skip(ACTION, f"the condor would not collect a credit (net mid {credit:.2f})")
    width = max(
        short_put.contract.strike - long_put.contract.strike,
        long_call.contract.strike - short_call.contract.strike,
    )
    if credit >= width:
        return skip(ACTION, f"credit {credit:.2f} >= width {width:g}: the chain's prices are wrong")
    multiplier = short_put.contract.multiplier
    max_loss = (width - credit) * multiplier
    nlv = state.account.net_liquidation
    units = units_within_risk(max_loss, nlv, params.max_loss_pct)
    if units == 0:
        return skip(
            ACTION,
            f"one condor risks ${max_loss:,.0f}, more than {params.max_loss_pct:.1%} "
            f"of net liquidation ${nlv:,.0f}",
        )
    legs = (
        Leg(short_put.contract, Side.SELL),
        Leg(long_put.contract, Side.BUY),
        Leg(short_call.contract, Side.SELL),
        Leg(long_call.contract, Side.BUY),
    )
    reason = (
        f"open {units}x iron condor {short_put.contract.expiry} ({dte} DTE): "
        f"puts {long_put.contract.strike:g}/{short_put.contract.strike:g} "
        f"(short delta {short_put.greeks.delta:+.2f}), "
        f"calls {short_call.contract.strike:g}/{long_call.contract.strike:g} "
        f"(short delta {short_call.greeks.delta:+.2f}); credit {credit:.2f} at mid, "
        f"max loss ${max_loss * units:,.0f} = {max_loss * units / nlv:.2%} of net liquidation "
        f"(limit {params.max_loss_pct:.0%})"
    )
    intent = Intent(
        kind=IntentKind.OPEN,
        engine=Engine.CONDOR,
        structure_kind=StructureKind.IRON_CONDOR,
        legs=legs,
        quantity=units,
        limit_price=-credit,
        reason=reason,
    )
    return Decision(intents=(intent,))
