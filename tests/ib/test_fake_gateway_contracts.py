"""Contracts through the fake gateway: qualification, details, errors, option chains."""

from __future__ import annotations

from datetime import date

from fake_gateway import FakeGateway

from broker.ib.ib_api import IB, Future, Index, Option
from broker.sim.exchange import SimExchange

from .conftest import connect, spxw


async def test_indexes_qualify_with_their_ib_con_ids(ib: IB) -> None:
    spx, vix, breadth = Index("SPX", "CBOE"), Index("VIX", "CBOE"), Index("AD-NYSE", "NYSE")
    assert await ib.qualifyContractsAsync(spx, vix, breadth) == [spx, vix, breadth]
    assert (spx.conId, vix.conId) == (416904, 13455763)
    assert breadth.conId > 0 and breadth.exchange == "NYSE"


async def test_spxw_option_qualifies_with_occ_symbol_and_multiplier(ib: IB) -> None:
    option = spxw(2700, "P")
    (qualified,) = await ib.qualifyContractsAsync(option)
    assert qualified is option
    assert option.conId > 0
    assert option.localSymbol == "SPXW  180420P02700000"
    assert (option.multiplier, option.tradingClass, option.currency) == ("100", "SPXW", "USD")


async def test_vix_option_and_future_qualify(ib: IB) -> None:
    option = Option("VIX", "20180418", 20, "C", "SMART")
    future = Future("VIX", "201804", "CFE")
    assert None not in await ib.qualifyContractsAsync(option, future)
    assert (option.tradingClass, option.lastTradeDateOrContractMonth) == ("VIX", "20180418")
    assert option.localSymbol == "VIX   180418C00020000"
    assert (future.tradingClass, future.multiplier, future.localSymbol) == ("VX", "1000", "VXJ8")
    assert future.lastTradeDateOrContractMonth == "20180418"


async def test_unknown_contract_gives_error_200_and_none(ib: IB) -> None:
    errors: list[tuple[int, int]] = []
    ib.errorEvent += lambda req_id, code, *_: errors.append((req_id, code))
    unlisted_strike = spxw(2701, "P")
    assert await ib.qualifyContractsAsync(unlisted_strike) == [None]
    assert [code for _, code in errors] == [200]
    assert errors[0][0] >= 0  # the request id, not -1


async def test_spx_option_without_trading_class_is_ambiguous_on_a_monthly(ib: IB) -> None:
    monthly = Option("SPX", "20180420", 2700, "P", "SMART")  # both SPX and SPXW list it
    details = await ib.reqContractDetailsAsync(monthly)
    assert sorted(d.contract.tradingClass for d in details if d.contract) == ["SPX", "SPXW"]
    assert await ib.qualifyContractsAsync(monthly) == [None]


async def test_con_ids_are_the_same_in_another_gateway(
    gateway: FakeGateway, ib: IB, exchange: SimExchange
) -> None:
    option = spxw(2650, "C")
    await ib.qualifyContractsAsync(option)
    other = FakeGateway(exchange)
    await other.start()
    client = await connect(other, client_id=2)
    again = spxw(2650, "C")
    await client.qualifyContractsAsync(again)
    assert again.conId == option.conId
    client.disconnect()
    await other.stop()


async def test_contract_details_of_a_vix_future(ib: IB) -> None:
    (details,) = await ib.reqContractDetailsAsync(Future("VIX", "20180516", "CFE"))
    assert details.contractMonth == "201805"
    assert details.realExpirationDate == "20180516"
    assert details.underConId == 13455763
    assert details.minTick == 0.05
    assert details.lastTradeTime  # VIX futures trade on their expiry morning


async def test_option_chain_lists_the_venues_expiries_and_strikes(
    ib: IB, exchange: SimExchange
) -> None:
    chains = await ib.reqSecDefOptParamsAsync("SPX", "", "IND", 416904)
    assert sorted((c.tradingClass, c.exchange) for c in chains) == [
        ("SPX", "CBOE"), ("SPX", "SMART"), ("SPXW", "CBOE"), ("SPXW", "SMART"),
    ]  # fmt: skip
    spxw_chain = next(c for c in chains if c.tradingClass == "SPXW")
    expiries = await exchange.option_expiries("SPX", "SPXW")
    assert spxw_chain.expirations == [d.strftime("%Y%m%d") for d in expiries]
    assert spxw_chain.strikes == await exchange.option_strikes("SPX", "SPXW", expiries[0])
    assert spxw_chain.multiplier == "100"
    assert int(spxw_chain.underlyingConId) == 416904  # ib_async leaves it a string


async def test_vix_option_chain_and_an_unknown_underlying(ib: IB) -> None:
    chains = await ib.reqSecDefOptParamsAsync("VIX", "", "IND", 13455763)
    assert {c.tradingClass for c in chains} == {"VIX"}
    assert chains[0].expirations[0] == date(2018, 3, 21).strftime("%Y%m%d")
    assert 20.0 in chains[0].strikes and 100.0 in chains[0].strikes
    assert await ib.reqSecDefOptParamsAsync("NDX", "", "IND", 1) == []
