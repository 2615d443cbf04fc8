"""The account through the fake gateway: positions, account values, summary, portfolio."""

from __future__ import annotations

import pytest
from fake_gateway import FakeGateway

from broker.ib.ib_api import IB, LimitOrder
from broker.sim.exchange import SimExchange

from .conftest import ask_of, condor_bag, connect, eventually


async def fill_condor(ib: IB, quantity: int = 2) -> None:
    bag = await condor_bag(ib)
    trade = ib.placeOrder(bag, LimitOrder("BUY", quantity, await ask_of(ib, bag)))
    await eventually(trade.isDone)


def values(ib: IB) -> dict[str, str]:
    return {v.tag: v.value for v in ib.accountValues() if v.currency in ("USD", "")}


async def test_positions_are_pushed_after_fills_and_match_the_venue(
    ib: IB, exchange: SimExchange
) -> None:
    assert ib.positions() == []
    await fill_condor(ib)
    venue = {p.contract.key: p for p in await exchange.positions()}
    await eventually(lambda: len(ib.positions()) == 4)
    for held in ib.positions():
        key = f"SPXW 2018-04-20 {held.contract.right} {held.contract.strike:g}"
        assert held.position == venue[key].quantity
        assert held.avgCost == pytest.approx(venue[key].avg_cost, abs=1e-6)
    assert {p.contract.tradingClass for p in ib.positions()} == {"SPXW"}


async def test_positions_on_a_new_connection(gateway: FakeGateway, ib: IB) -> None:
    await fill_condor(ib, quantity=1)
    later = await connect(gateway, client_id=11)
    assert sorted(p.position for p in later.positions()) == [-1, -1, 1, 1]
    assert sorted(p.position for p in await later.reqPositionsAsync()) == [-1, -1, 1, 1]
    later.disconnect()


async def test_account_values_match_the_venue(ib: IB, exchange: SimExchange) -> None:
    await fill_condor(ib)
    account = await exchange.account()
    await eventually(lambda: float(values(ib)["MaintMarginReq"]) > 0)
    got = values(ib)
    assert got["AccountCode"] == "DU1234567"
    assert float(got["NetLiquidation"]) == pytest.approx(account.net_liquidation, abs=0.01)
    assert float(got["TotalCashValue"]) == pytest.approx(account.cash, abs=0.01)
    assert float(got["MaintMarginReq"]) == pytest.approx(account.maintenance_margin, abs=0.01)
    assert float(got["ExcessLiquidity"]) == pytest.approx(account.excess_liquidity, abs=0.01)
    assert float(got["InitMarginReq"]) == float(got["MaintMarginReq"])


async def test_portfolio_marks_every_leg(ib: IB) -> None:
    await fill_condor(ib)
    await eventually(lambda: len(ib.portfolio()) == 4)
    for item in ib.portfolio():
        assert item.marketValue == pytest.approx(item.position * 100 * item.marketPrice, abs=0.01)
        assert item.unrealizedPNL == pytest.approx(
            item.marketValue - item.position * item.averageCost, abs=0.01
        )


async def test_account_summary_answers_the_requested_tags(ib: IB, exchange: SimExchange) -> None:
    summary = {v.tag: v.value for v in await ib.accountSummaryAsync()}
    account = await exchange.account()
    assert float(summary["NetLiquidation"]) == pytest.approx(account.net_liquidation, abs=0.01)
    assert float(summary["ExcessLiquidity"]) == pytest.approx(account.excess_liquidity, abs=0.01)
    assert summary["AccountType"] == "INDIVIDUAL"
    assert "CashBalance" not in summary  # not among the tags ib_async asks for
