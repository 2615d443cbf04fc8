"""End to end on IB, market data the account does not get: error 354 switches the session to
delayed data with one warning and trading goes on; option greeks IB does not compute are
computed locally and the condor is still chosen by delta."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import structlog

from bot.jobs import JobName
from broker.contracts import OptionContract
from broker.ib import mapping
from broker.orders import Side
from broker.sim.history import DailyHistory
from broker.structures import Engine

from .e2e_system import GreeklessExchange, ib_system

NOT_SUBSCRIBED = "market data not subscribed: using delayed data (15-20 minutes old) from now on"
REQ_MARKET_DATA_TYPE = 59
DELAYED = "3"
SHORT_DELTA = 0.16  # the condor's short strikes (config default)


async def test_error_354_switches_to_delayed_data_with_one_warning_and_trading_goes_on(
    tmp_path: Path, history: DailyHistory
) -> None:
    with structlog.testing.capture_logs() as logs:
        async with ib_system(tmp_path, history, live_data=False) as system:
            assert system.broker.market_data_type == "live"  # as configured
            await system.open_the_books()

            assert system.broker.market_data_type == "delayed"
            asked = [r.fields for r in system.gateway.requests(REQ_MARKET_DATA_TYPE)]
            assert asked[-1][-1] == DELAYED
            engines = {s.engine for s in system.journal.open_structures()}
            assert engines == {Engine.CONDOR, Engine.VIX}  # priced on delayed data
    warnings = [e for e in logs if e["event"] == NOT_SUBSCRIBED]
    assert [(w["log_level"], w["code"]) for w in warnings] == [("warning", 354)]  # only once


async def test_live_data_subscribed_stays_live_without_a_warning(
    tmp_path: Path, history: DailyHistory
) -> None:
    with structlog.testing.capture_logs() as logs:
        async with ib_system(tmp_path, history) as system:
            await system.at(10, 0, JobName.CONDOR_ENTRY)
            assert system.broker.market_data_type == "live"
            asked = [r.fields[-1] for r in system.gateway.requests(REQ_MARKET_DATA_TYPE)]
            assert DELAYED not in asked
    assert not [e for e in logs if e["event"] == NOT_SUBSCRIBED]


async def test_greeks_ib_does_not_compute_are_computed_locally_and_the_condor_opens(
    tmp_path: Path, history: DailyHistory
) -> None:
    async with ib_system(tmp_path, history, venue=GreeklessExchange) as system:
        await system.at(9, 40, JobName.SIGNALS)
        await system.at(10, 0, JobName.CONDOR_ENTRY)
        options = [t for t in system.broker.ib.tickers() if t.contract.secType == "OPT"]
        assert options and all(mapping.ib_greeks(t.modelGreeks) is None for t in options)

        [condor] = system.journal.open_structures()
        legs = [leg.contract for leg in condor.legs]
        assert all(isinstance(c, OptionContract) for c in legs)
        options_held = [c for c in legs if isinstance(c, OptionContract)]
        local = await system.broker.option_quotes(options_held)
        assert isinstance(system.exchange, GreeklessExchange)
        true = await system.exchange.true_quotes(options_held)
        for mine, venue in zip(local, true, strict=True):
            assert mine.greeks.is_finite()
            assert mine.greeks.delta == pytest.approx(venue.greeks.delta, abs=0.03)
        shorts = [
            q.greeks.delta
            for q, leg in zip(local, condor.legs, strict=True)
            if leg.side is Side.SELL
        ]
        assert sorted(shorts) == pytest.approx([-SHORT_DELTA, SHORT_DELTA], abs=0.04)

        await system.at(10, 15, JobName.MANAGE)  # marks the condor with its position greeks
        greeks = system.journal.open_greeks()[condor.id]
        assert all(math.isfinite(x) for x in (greeks.delta, greeks.gamma, greeks.vega))
        assert greeks.theta > 0  # a short premium position earns time decay
