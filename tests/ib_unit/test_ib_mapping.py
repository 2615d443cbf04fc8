"""The pure IB mapping, fed with the library's own objects built by hand (no mocks)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.account import MarginImpact, Position
from broker.calendar import NY, TradingCalendar
from broker.contracts import AD_NYSE, SPX, VIX, FutureContract, OptionContract, Right
from broker.errors import BrokerUnavailable, ConfigError
from broker.ib import ib_api, mapping
from broker.orders import Leg, Order, OrderStatus, Side
from broker.vix_calendar import vix_expiry

NOW = datetime(2025, 5, 6, 11, 0, tzinfo=NY)
EXPIRY = date(2025, 6, 20)
SP = OptionContract("SPX", "SPXW", EXPIRY, 5400.0, Right.PUT)
LP = OptionContract("SPX", "SPXW", EXPIRY, 5350.0, Right.PUT)
SC = OptionContract("SPX", "SPXW", EXPIRY, 6000.0, Right.CALL)
LC = OptionContract("SPX", "SPXW", EXPIRY, 6050.0, Right.CALL)
CONIDS = {SP.key: 101, LP.key: 102, SC.key: 103, LC.key: 104}
CONDOR = Order(
    "alvh-7",
    (Leg(SP, Side.SELL), Leg(LP, Side.BUY), Leg(SC, Side.SELL), Leg(LC, Side.BUY)),
    quantity=2,
    limit_price=-1.23,
)
VX_JUN = FutureContract("VIX", "VX", date(2025, 6, 18))
VX_JUL = FutureContract("VIX", "VX", date(2025, 7, 16))


@pytest.fixture(scope="session")
def calendar() -> TradingCalendar:
    return TradingCalendar(date(2025, 1, 1), date(2025, 12, 31))


def _qualified(contract: OptionContract | FutureContract, con_id: int) -> ib_api.Contract:
    """Return the IB contract as qualifyContracts leaves it: with a conId."""
    ib_contract = mapping.ib_contract(contract)
    ib_contract.conId = con_id
    return ib_contract


def _condor_bag() -> ib_api.Contract:
    legs = [_qualified(leg.contract, CONIDS[leg.contract.key]) for leg in CONDOR.legs]
    return mapping.combo_contract(CONDOR, legs)


def _ticker(contract: ib_api.Contract, **fields: object) -> ib_api.Ticker:
    """Return a ticker as the library fills it (fields set after construction)."""
    ticker = ib_api.Ticker(contract=contract)
    for name, value in fields.items():
        setattr(ticker, name, value)
    return ticker


def _trade(
    contract: ib_api.Contract,
    order: ib_api.Order,
    status: str,
    filled: float = 0.0,
    avg: float = 0.0,
    log: list[ib_api.TradeLogEntry] | None = None,
    fills: list[ib_api.Fill] | None = None,
) -> ib_api.Trade:
    remaining = float(order.totalQuantity) - filled
    order_status = ib_api.OrderStatus(
        orderId=order.orderId, status=status, filled=filled, remaining=remaining, avgFillPrice=avg
    )
    return ib_api.Trade(contract, order, order_status, fills or [], log or [])


def _fill(
    contract: ib_api.Contract,
    exec_id: str,
    side: str,
    shares: float,
    price: float,
    commission: float | None,
    time: datetime = datetime(2025, 5, 6, 15, 2, 3, tzinfo=UTC),
) -> ib_api.Fill:
    execution = ib_api.Execution(
        execId=exec_id, time=time, side=side, shares=shares, price=price, orderRef="alvh-7"
    )
    report = ib_api.CommissionReport()
    if commission is not None:  # the report arrived: the library fills the fill's own copy
        report.execId, report.commission, report.currency = exec_id, commission, "USD"
    return ib_api.Fill(contract, execution, report, time)


# -- contracts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "contract",
    [
        SP,
        OptionContract("SPX", "SPX", EXPIRY, 5400.0, Right.CALL),  # AM monthly
        OptionContract("VIX", "VIX", date(2025, 6, 18), 22.5, Right.CALL),
        VX_JUN,
    ],
    ids=["spxw", "spx-am", "vix-option", "vix-future"],
)
def test_contracts_round_trip_through_ib(contract: OptionContract | FutureContract) -> None:
    ib_contract = _qualified(contract, 555)
    assert ib_contract.currency == "USD"
    assert ib_contract.tradingClass == contract.trading_class
    assert ib_contract.multiplier == str(contract.multiplier)
    assert ib_contract.lastTradeDateOrContractMonth == contract.expiry.strftime("%Y%m%d")
    assert mapping.domain_contract(ib_contract) == contract


def test_options_route_smart_and_futures_trade_on_cfe() -> None:
    option = mapping.ib_contract(SP)
    assert (option.secType, option.exchange, option.right, option.strike) == (
        "OPT",
        "SMART",
        "P",
        5400.0,
    )
    future = mapping.ib_contract(VX_JUN)
    assert (future.secType, future.exchange, future.symbol) == ("FUT", "CFE", "VIX")


@pytest.mark.parametrize(("index", "exchange"), [(SPX, "CBOE"), (VIX, "CBOE"), (AD_NYSE, "NYSE")])
def test_indexes_keep_their_exchange(index: object, exchange: str) -> None:
    contract = mapping.ib_contract(index)  # type: ignore[arg-type]
    assert (contract.secType, contract.exchange, contract.currency) == ("IND", exchange, "USD")
    assert contract.symbol == index.symbol  # type: ignore[attr-defined]


def test_ib_contracts_as_reported_map_back_to_domain_contracts() -> None:
    reported = ib_api.Contract(
        secType="OPT",
        conId=9,
        symbol="SPX",
        lastTradeDateOrContractMonth="20250620 16:00 US/Eastern",
        strike=5400.0,
        right="PUT",
        multiplier="100",
        exchange="CBOE",
        tradingClass="SPXW",
    )
    assert mapping.domain_contract(reported) == SP  # IB's exchange does not leak into the key
    month_only = ib_api.Contract(
        secType="FUT", symbol="VIX", lastTradeDateOrContractMonth="202506", tradingClass="VX"
    )
    assert mapping.domain_contract(month_only) == FutureContract("VIX", "VX", vix_expiry(2025, 6))


@pytest.mark.parametrize(
    "contract",
    [
        ib_api.Contract(secType="STK", symbol="SPY"),
        ib_api.Contract(secType="BAG", symbol="SPX"),
        ib_api.Contract(
            secType="OPT", symbol="SPX", lastTradeDateOrContractMonth="2025", right="P"
        ),
        ib_api.Contract(
            secType="OPT", symbol="SPX", lastTradeDateOrContractMonth="20250620", strike=5400.0
        ),
    ],
    ids=["stock", "bag", "bad-date", "no-right"],
)
def test_foreign_or_incomplete_contracts_map_to_none(contract: ib_api.Contract) -> None:
    assert mapping.domain_contract(contract) is None


# -- combos and orders ---------------------------------------------------------------------------


def test_a_condor_is_one_bag_with_four_combo_legs() -> None:
    bag = _condor_bag()
    assert (bag.secType, bag.symbol, bag.exchange, bag.currency) == ("BAG", "SPX", "SMART", "USD")
    legs = [(c.conId, c.ratio, c.action, c.exchange) for c in bag.comboLegs]
    assert legs == [
        (101, 1, "SELL", "SMART"),
        (102, 1, "BUY", "SMART"),
        (103, 1, "SELL", "SMART"),
        (104, 1, "BUY", "SMART"),
    ]


def test_a_condor_for_a_credit_is_bought_with_a_negative_limit_rounded_passively() -> None:
    order = mapping.ib_limit_order(CONDOR, _condor_bag(), "DU123")
    assert (order.action, order.totalQuantity, order.orderType) == ("BUY", 2.0, "LMT")
    assert order.lmtPrice == -1.25  # -1.23 asks for a little more credit, never less
    assert (order.orderRef, order.tif, order.transmit, order.account) == (
        "alvh-7",
        "DAY",
        True,
        "DU123",
    )


def test_a_debit_combo_keeps_a_positive_limit_rounded_down() -> None:
    debit = Order("alvh-8", CONDOR.legs, 1, 2.07)
    assert mapping.ib_limit_order(debit, _condor_bag(), "DU1").lmtPrice == 2.05


def test_a_futures_calendar_is_a_bag_on_cfe() -> None:
    roll = Order("alvh-9", (Leg(VX_JUN, Side.SELL), Leg(VX_JUL, Side.BUY)), 1, 0.85)
    bag = mapping.combo_contract(roll, [_qualified(VX_JUN, 1), _qualified(VX_JUL, 2)])
    assert bag.exchange == "CFE" and {c.exchange for c in bag.comboLegs} == {"CFE"}


def test_a_backspread_keeps_its_leg_ratios() -> None:
    near = OptionContract("VIX", "VIX", date(2025, 8, 20), 20.0, Right.CALL)
    far = OptionContract("VIX", "VIX", date(2025, 8, 20), 30.0, Right.CALL)
    order = Order("alvh-10", (Leg(near, Side.SELL, 1), Leg(far, Side.BUY, 2)), 3, -0.10)
    bag = mapping.combo_contract(order, [_qualified(near, 1), _qualified(far, 2)])
    assert [(c.ratio, c.action) for c in bag.comboLegs] == [(1, "SELL"), (2, "BUY")]


def test_combos_that_ib_cannot_take_are_refused() -> None:
    mixed = Order("alvh-11", (Leg(VX_JUN, Side.BUY), Leg(SP, Side.SELL)), 1, 1.0)
    with pytest.raises(ValueError, match="underlying"):
        mapping.combo_contract(mixed, [_qualified(VX_JUN, 1), _qualified(SP, 2)])
    vix_call = OptionContract("VIX", "VIX", date(2025, 6, 18), 25.0, Right.CALL)
    options_and_future = Order("alvh-12", (Leg(VX_JUN, Side.BUY), Leg(vix_call, Side.SELL)), 1, 1)
    with pytest.raises(ValueError, match="mix"):
        mapping.combo_contract(options_and_future, [_qualified(VX_JUN, 1), _qualified(vix_call, 2)])
    with pytest.raises(ValueError, match="conId"):
        mapping.combo_contract(CONDOR, [mapping.ib_contract(leg.contract) for leg in CONDOR.legs])


@pytest.mark.parametrize(
    ("side", "domain_limit", "action", "ib_limit"),
    [
        (Side.SELL, -2.0, "SELL", 2.0),  # a credit received: sold at +2.00
        (Side.SELL, -3.07, "SELL", 3.10),  # SPX at or above 3.00 trades in 0.10, rounded up
        (Side.BUY, 3.07, "BUY", 3.00),  # ... rounded down for a buy
        (Side.BUY, 2.98, "BUY", 2.95),  # below 3.00: 0.05
    ],
)
def test_single_spx_options_are_sold_or_bought_at_a_positive_price_on_their_tick(
    side: Side, domain_limit: float, action: str, ib_limit: float
) -> None:
    order = Order("alvh-13", (Leg(SP, side),), 1, domain_limit)
    ib_order = mapping.ib_limit_order(order, _qualified(SP, 1), "DU1")
    assert (ib_order.action, ib_order.lmtPrice) == (action, ib_limit)


def test_a_single_leg_with_a_ratio_is_sent_in_contracts_and_read_back_in_units() -> None:
    order = Order("alvh-14", (Leg(VX_JUN, Side.BUY, 2),), 3, 41.10)
    action, quantity, ratio = mapping.order_terms(order)
    assert (action, quantity, ratio) == ("BUY", 6.0, 2)
    contract = _qualified(VX_JUN, 1)
    ib_order = mapping.ib_limit_order(order, contract, "DU1")
    assert ib_order.lmtPrice == 20.55  # per contract
    state = mapping.order_state(_trade(contract, ib_order, "Filled", 6.0, 20.55), ratio)
    assert (state.filled, state.remaining, state.limit_price) == (3, 0, pytest.approx(41.10))


def test_orders_without_legs_or_quantity_are_refused() -> None:
    with pytest.raises(ValueError, match="leg"):
        mapping.order_terms(Order("alvh-15", (), 1, 1.0))
    with pytest.raises(ValueError, match="quantity"):
        mapping.order_terms(Order("alvh-16", CONDOR.legs, 0, 1.0))
    with pytest.raises(ValueError, match="not a number"):
        mapping.round_limit(math.nan, 0.05, "BUY")


@pytest.mark.parametrize(
    ("price", "action", "rounded"),
    [
        (-1.25, "BUY", -1.25),
        (-1.2500000001, "BUY", -1.25),  # float noise never moves a price already on the tick
        (-1.2499999, "BUY", -1.25),
        (-1.21, "SELL", -1.20),
        (0.0, "BUY", 0.0),
        (-0.01, "SELL", 0.0),
        (1.02, "SELL", 1.05),
    ],
)
def test_round_limit_goes_to_the_passive_side(price: float, action: str, rounded: float) -> None:
    result = mapping.round_limit(price, 0.05, action)
    assert result == rounded and str(result) != "-0.0"


@given(ticks=st.integers(-400, 400), action=st.sampled_from(["BUY", "SELL"]))
def test_ib_limit_and_domain_price_are_inverse_on_the_tick(ticks: int, action: str) -> None:
    price = round(ticks * 0.05, 2)
    bag = _condor_bag()
    assert mapping.domain_price(mapping.ib_limit(price, bag, action), bag, action) == price


# -- statuses ------------------------------------------------------------------------------------

EXPECTED_STATUS = {
    "PendingSubmit": OrderStatus.PENDING,
    "ApiPending": OrderStatus.PENDING,
    "PreSubmitted": OrderStatus.WORKING,
    "Submitted": OrderStatus.WORKING,
    "ApiUpdate": OrderStatus.WORKING,
    "ValidationError": OrderStatus.WORKING,
    "PendingCancel": OrderStatus.WORKING,
    "Cancelled": OrderStatus.CANCELLED,
    "ApiCancelled": OrderStatus.CANCELLED,
    "Filled": OrderStatus.FILLED,
    "Inactive": OrderStatus.REJECTED,
}


def test_every_status_string_of_the_library_is_mapped() -> None:
    library = {
        value
        for name, value in vars(ib_api.OrderStatus).items()
        if not name.startswith("_") and isinstance(value, str) and value
    }
    assert library <= set(mapping.IB_STATUS)
    assert set(EXPECTED_STATUS) <= set(mapping.IB_STATUS)


@pytest.mark.parametrize(("ib_status", "expected"), sorted(EXPECTED_STATUS.items()))
def test_status_map(ib_status: str, expected: OrderStatus) -> None:
    assert mapping.domain_status(ib_status, 0, "") is expected


@pytest.mark.parametrize(
    ("ib_status", "filled", "error", "expected"),
    [
        ("Submitted", 1, "", OrderStatus.PARTIAL),
        ("PendingSubmit", 2, "", OrderStatus.PARTIAL),
        ("Cancelled", 0, "IB 201: Order rejected", OrderStatus.REJECTED),
        ("Cancelled", 1, "IB 201: Order rejected", OrderStatus.CANCELLED),
        ("Inactive", 1, "", OrderStatus.CANCELLED),
        ("SomethingNew", 0, "", OrderStatus.WORKING),
    ],
)
def test_status_with_fills_and_errors(
    ib_status: str, filled: int, error: str, expected: OrderStatus
) -> None:
    assert mapping.domain_status(ib_status, filled, error) is expected


def test_a_working_condor_reports_its_partial_fill_in_the_domain_convention() -> None:
    bag = _condor_bag()
    order = mapping.ib_limit_order(CONDOR, bag, "DU1")
    order.orderId = 42
    state = mapping.order_state(_trade(bag, order, "Submitted", filled=1.0, avg=-1.25))
    assert (state.ref, state.broker_order_id, state.status) == ("alvh-7", "42", OrderStatus.PARTIAL)
    assert (state.filled, state.remaining, state.limit_price) == (1, 1, -1.25)
    assert state.avg_fill_price == -1.25 and state.message == ""


def test_a_combo_whose_bag_execution_arrived_before_its_status_is_filled() -> None:
    bag = _condor_bag()
    order = mapping.ib_limit_order(CONDOR, bag, "DU1")
    fills = [_fill(bag, "b1", "BOT", 2.0, -1.25, None)]
    state = mapping.order_state(_trade(bag, order, "Submitted", fills=fills))
    assert (state.status, state.filled, state.remaining) == (OrderStatus.FILLED, 2, 0)


def test_a_201_reject_is_rejected_with_ibs_message() -> None:
    bag = _condor_bag()
    order = mapping.ib_limit_order(CONDOR, bag, "DU1")
    entry = ib_api.TradeLogEntry(
        NOW,
        "Cancelled",
        "Error 201, reqId 42: Order rejected - reason:Insufficient margin, contract: Bag(...)",
        201,
    )
    state = mapping.order_state(_trade(bag, order, "Cancelled", log=[entry]))
    assert state.status is OrderStatus.REJECTED
    assert state.message == "IB 201: Order rejected - reason:Insufficient margin"
    assert state.avg_fill_price is None


def test_a_202_confirms_a_cancel() -> None:
    bag = _condor_bag()
    order = mapping.ib_limit_order(CONDOR, bag, "DU1")
    entry = ib_api.TradeLogEntry(NOW, "Cancelled", "Error 202, reqId 42: Order Canceled", 202)
    state = mapping.order_state(_trade(bag, order, "Cancelled", log=[entry]))
    assert state.status is OrderStatus.CANCELLED and state.message == ""


def test_a_completed_order_after_a_restart_reads_its_filled_quantity() -> None:
    bag = _condor_bag()
    order = mapping.ib_limit_order(CONDOR, bag, "DU1")
    order.filledQuantity = 2.0  # reqCompletedOrders: no orderStatus numbers, no fills
    state = mapping.order_state(_trade(bag, order, "Filled"))
    assert (state.status, state.filled, state.remaining) == (OrderStatus.FILLED, 2, 0)


def test_a_bag_average_comes_from_bag_level_fills_when_the_status_has_none() -> None:
    bag = _condor_bag()
    order = mapping.ib_limit_order(CONDOR, bag, "DU1")
    fills = [
        _fill(bag, "b1", "BOT", 1.0, -1.20, None),
        _fill(bag, "b2", "BOT", 1.0, -1.30, None),
        _fill(_qualified(SP, 101), "l1", "SLD", 1.0, 9.0, 0.65),  # a leg: not the combo price
    ]
    state = mapping.order_state(_trade(bag, order, "Filled", fills=fills))
    assert state.filled == 2 and state.avg_fill_price == pytest.approx(-1.25)


def test_a_sold_single_leg_reports_a_credit() -> None:
    contract = _qualified(SP, 101)
    order = mapping.ib_limit_order(Order("alvh-17", (Leg(SP, Side.SELL),), 1, -2.0), contract, "")
    state = mapping.order_state(_trade(contract, order, "Filled", 1.0, 2.05))
    assert (state.limit_price, state.avg_fill_price) == (-2.0, -2.05)


def test_find_trade_by_order_ref() -> None:
    bag = _condor_bag()
    first = mapping.ib_limit_order(CONDOR, bag, "DU1")
    first.permId, first.orderId = 1000, 5
    other = mapping.ib_limit_order(Order("alvh-99", CONDOR.legs, 1, 1.0), bag, "DU1")
    manual = ib_api.LimitOrder("BUY", 1, 1.0)  # a hand-placed order has no ref
    trades = [_trade(bag, o, "Submitted") for o in (first, other, manual)]
    assert mapping.find_trade(trades, "alvh-7") is trades[0]
    assert mapping.find_trade(trades, "alvh-8") is None
    assert mapping.find_trade(trades, "") is None


# -- executions ----------------------------------------------------------------------------------


def test_leg_executions_become_fills_with_their_commission_and_bag_ones_are_dropped() -> None:
    bag = _condor_bag()
    bag_fill = _fill(bag, "0001.bag", "BOT", 1.0, -1.25, None)
    leg_fill = _fill(_qualified(SP, 101), "0001.01", "SLD", 1.0, 8.40, 1.37)
    assert not mapping.is_leg_fill(bag_fill) and mapping.domain_fill(bag_fill) is None
    fill = mapping.domain_fill(leg_fill)
    assert fill is not None
    assert (fill.exec_id, fill.order_ref, fill.contract, fill.side) == (
        "0001.01",
        "alvh-7",
        SP,
        Side.SELL,
    )
    assert (fill.quantity, fill.price, fill.commission) == (1, 8.40, 1.37)
    assert fill.time == datetime(2025, 5, 6, 15, 2, 3, tzinfo=UTC)


def test_a_fill_without_its_commission_report_is_not_reported() -> None:
    fill = _fill(_qualified(LP, 102), "0001.02", "BOT", 1.0, 6.10, None)
    assert not mapping.has_commission(fill)
    with pytest.raises(ValueError, match="commission"):
        mapping.domain_fill(fill)


def test_a_naive_execution_time_is_read_as_utc() -> None:
    naive = datetime(2025, 5, 6, 15, 2, 3)
    fill = _fill(_qualified(LP, 102), "x", "BOT", 2.0, 6.10, 1.3, time=naive)
    assert mapping.execution_time(fill) == datetime(2025, 5, 6, 15, 2, 3, tzinfo=UTC)


def test_executions_of_foreign_contracts_are_skipped() -> None:
    stock = ib_api.Contract(secType="STK", symbol="SPY", conId=1)
    assert mapping.domain_fill(_fill(stock, "s1", "BOT", 100.0, 500.0, 1.0)) is None


def test_execution_filter_time_is_utc() -> None:
    assert mapping.execution_filter_time(NOW) == "20250506-15:00:00"


# -- account, positions, what-if -----------------------------------------------------------------


def _values(account: str = "DU123") -> list[ib_api.AccountValue]:
    return [
        ib_api.AccountValue(account, "NetLiquidation", "1002500.50", "USD", ""),
        ib_api.AccountValue(account, "NetLiquidation-S", "1.0", "USD", ""),
        ib_api.AccountValue(account, "TotalCashValue", "990000", "USD", ""),
        ib_api.AccountValue(account, "TotalCashValue", "990000", "BASE", ""),
        ib_api.AccountValue(account, "MaintMarginReq", "12000.25", "USD", ""),
        ib_api.AccountValue(account, "ExcessLiquidity", "980000", "USD", ""),
        ib_api.AccountValue("DU999", "NetLiquidation", "5", "USD", ""),
    ]


def test_account_values_become_a_snapshot() -> None:
    snapshot = mapping.account_snapshot(_values(), "DU123", NOW)
    assert (snapshot.account_id, snapshot.time) == ("DU123", NOW)
    assert snapshot.net_liquidation == 1002500.50
    assert (snapshot.cash, snapshot.maintenance_margin) == (990000.0, 12000.25)


def test_a_missing_balance_is_unavailable_not_zero() -> None:
    values = [v for v in _values() if v.tag != "MaintMarginReq"]
    with pytest.raises(BrokerUnavailable, match="MaintMarginReq"):
        mapping.account_snapshot(values, "DU123", NOW)
    with pytest.raises(BrokerUnavailable):
        mapping.account_snapshot(_values("DU555"), "DU123", NOW)


def test_the_account_is_the_configured_one_or_the_only_one() -> None:
    assert mapping.choose_account(["DU1"], "") == "DU1"
    assert mapping.choose_account(["DU1", "DU2"], "DU2") == "DU2"
    with pytest.raises(ConfigError, match="several"):
        mapping.choose_account(["DU1", "DU2"], "")
    with pytest.raises(ConfigError, match="not managed"):
        mapping.choose_account(["DU1"], "DU7")
    with pytest.raises(BrokerUnavailable):
        mapping.choose_account([], "")


def test_positions_map_to_domain_positions() -> None:
    held = ib_api.Position("DU123", _qualified(SP, 101), -2.0, 845.3)
    assert mapping.domain_position(held) == Position(SP, -2, 845.3)
    flat = ib_api.Position("DU123", _qualified(SP, 101), 0.0, 0.0)
    stock = ib_api.Position("DU123", ib_api.Contract(secType="STK", symbol="SPY"), 10.0, 500.0)
    assert mapping.domain_position(flat) is None and mapping.domain_position(stock) is None


def test_what_if_becomes_a_margin_impact() -> None:
    answer = ib_api.OrderState(
        status="PreSubmitted",
        maintMarginAfter="22000.5",
        equityWithLoanAfter="1001000",
        initMarginAfter="23000",
    )
    impact = mapping.margin_impact(answer, 1002500.5)
    assert impact == MarginImpact(22000.5, 1001000 - 22000.5, 1002500.5)


def test_what_if_without_equity_falls_back_to_net_liquidation() -> None:
    answer = ib_api.OrderState(maintMarginAfter="1000", equityWithLoanAfter="")
    assert mapping.margin_impact(answer, 50000.0).excess_liquidity_after == 49000.0


@pytest.mark.parametrize(
    "answer",
    [
        [],  # what a failed request returns
        ib_api.OrderState(maintMarginAfter="", warningText="not allowed"),
        ib_api.OrderState(maintMarginAfter="1.7976931348623157E308"),
    ],
)
def test_no_what_if_margin_is_unavailable(answer: object) -> None:
    with pytest.raises(BrokerUnavailable):
        mapping.margin_impact(answer, 1.0)


def test_what_if_reason_is_in_the_error() -> None:
    with pytest.raises(BrokerUnavailable, match="not allowed"):
        mapping.margin_impact(ib_api.OrderState(warningText="not allowed"), 1.0)


# -- quotes ----------------------------------------------------------------------------------------


def test_an_index_quote_uses_last_and_ignores_the_blanked_book() -> None:
    ticker = _ticker(mapping.ib_contract(SPX), bid=-1.0, ask=-1.0, last=5612.3, close=5590.0)
    quote = mapping.index_quote(SPX, ticker, NOW)
    assert math.isnan(quote.bid) and math.isnan(quote.ask)
    assert quote.last == 5612.3 and quote.price == 5612.3


def test_an_index_quote_without_last_falls_back_to_the_close() -> None:
    ticker = _ticker(mapping.ib_contract(VIX), last=math.nan, close=18.2)
    assert mapping.index_quote(VIX, ticker, NOW).price == 18.2
    assert math.isnan(mapping.index_quote(VIX, None, NOW).price)


def test_option_quote_converts_ib_model_greeks_to_domain_units() -> None:
    model = ib_api.OptionComputation(0, 0.18, -0.16, 12.0, 0.0, 0.0009, 4.2, -1.1, 5600.0)
    ticker = _ticker(
        _qualified(SP, 101), bid=11.8, ask=12.2, bidSize=5.0, askSize=7.0, modelGreeks=model
    )
    quote = mapping.option_quote(SP, ticker, NOW)
    assert (quote.quote.bid, quote.quote.ask, quote.quote.bid_size) == (11.8, 12.2, 5.0)
    assert quote.greeks.iv == 0.18 and quote.greeks.delta == -0.16
    assert quote.greeks.vega == pytest.approx(420.0)  # per 1.00 of vol
    assert quote.greeks.theta == pytest.approx(-1.1 * 365)  # per year
    assert quote.underlying_price == 5600.0 and quote.problem() is None


@pytest.mark.parametrize(
    "model",
    [
        None,
        ib_api.OptionComputation(0, 0.2, -2.0, None, None, -2.0, -2.0, -2.0, 5600.0),
        ib_api.OptionComputation(0, 0.2, -0.3, 1.0, 0.0, 0.001, 4.0, math.nan, 5600.0),
        ib_api.OptionComputation(0, -1.0, -0.3, 1.0, 0.0, 0.001, 4.0, -1.0, 5600.0),
    ],
    ids=["none", "sentinels", "nan-theta", "no-vol"],
)
def test_missing_model_greeks_are_nan(model: ib_api.OptionComputation | None) -> None:
    quote = mapping.option_quote(SP, _ticker(_qualified(SP, 1), modelGreeks=model), NOW)
    assert not quote.greeks.is_finite()
    assert quote.problem() is not None


def test_an_option_without_a_bid_has_no_buyer_and_without_an_ask_no_market() -> None:
    no_bid = _ticker(_qualified(SP, 1), bid=-1.0, bidSize=0.0, ask=0.10, askSize=20.0)
    quote = mapping.option_quote(SP, no_bid, NOW).quote
    assert (quote.bid, quote.bid_size, quote.ask) == (0.0, 0.0, 0.10)
    assert quote.problem() is None and quote.mid == pytest.approx(0.05)
    no_ask = _ticker(_qualified(SP, 1), bid=0.05, ask=-1.0, askSize=0.0)
    assert mapping.option_quote(SP, no_ask, NOW).quote.problem() is not None


def test_future_quote_keeps_the_book_and_reads_a_missing_bid_as_no_market() -> None:
    ticker = _ticker(
        _qualified(VX_JUN, 7), bid=19.05, ask=19.10, bidSize=40.0, askSize=35.0, last=19.05
    )
    quote = mapping.future_quote(VX_JUN, ticker, NOW)
    assert (quote.bid, quote.ask, quote.last, quote.ask_size) == (19.05, 19.10, 19.05, 35.0)
    assert quote.mid == pytest.approx(19.075)
    blank = _ticker(_qualified(VX_JUN, 7), bid=-1.0, ask=19.10, bidSize=0.0)
    assert mapping.future_quote(VX_JUN, blank, NOW).problem() is not None


def test_a_reused_ticker_is_blanked_before_a_new_snapshot() -> None:
    model = ib_api.OptionComputation(0, 0.18, -0.16, 12.0, 0.0, 0.0009, 4.2, -1.1, 5600.0)
    ticker = _ticker(_qualified(SP, 1), bid=11.8, ask=12.2, last=12.0, modelGreeks=model, time=NOW)
    mapping.reset_ticker(ticker)
    quote = mapping.option_quote(SP, ticker, NOW)
    assert math.isnan(quote.quote.bid) and math.isnan(quote.quote.last)
    assert not quote.greeks.is_finite() and ticker.time is None


def test_ticker_time_is_used_when_present() -> None:
    when = datetime(2025, 5, 6, 14, 59, tzinfo=UTC)
    ticker = _ticker(_qualified(VX_JUN, 7), bid=19.0, ask=19.1, time=when)
    assert mapping.future_quote(VX_JUN, ticker, NOW).time == when


# -- bars and chains -------------------------------------------------------------------------------


def _bars(*days: date) -> list[ib_api.BarData]:
    return [
        ib_api.BarData(d, 100.0 + i, 102.0 + i, 99.0 + i, 101.0 + i) for i, d in enumerate(days)
    ]


def test_todays_partial_bar_is_cut_while_the_session_is_open(calendar: TradingCalendar) -> None:
    bars = _bars(date(2025, 5, 2), date(2025, 5, 5), date(2025, 5, 6))
    during = mapping.completed_bars(bars, NOW, calendar)
    assert [b.day for b in during] == [date(2025, 5, 2), date(2025, 5, 5)]
    after_close = datetime(2025, 5, 6, 16, 30, tzinfo=NY)
    assert [b.day for b in mapping.completed_bars(bars, after_close, calendar)][-1] == NOW.date()
    assert during[0].open == 100.0 and during[-1].close == 102.0


def test_bars_on_a_weekend_are_all_complete(calendar: TradingCalendar) -> None:
    saturday = datetime(2025, 5, 10, 12, 0, tzinfo=NY)
    bars = _bars(date(2025, 5, 8), date(2025, 5, 9))
    assert len(mapping.completed_bars(bars, saturday, calendar)) == 2


def test_intraday_stamped_bars_are_dated_in_new_york(calendar: TradingCalendar) -> None:
    late = datetime(2025, 5, 6, 3, 0, tzinfo=UTC)  # 23:00 on May 5 in New York
    [bar] = mapping.completed_bars([ib_api.BarData(late, 1.0, 2.0, 0.5, 1.5)], NOW, calendar)
    assert bar.day == date(2025, 5, 5)


@pytest.mark.parametrize(("sessions", "duration"), [(1, "12 D"), (60, "94 D"), (300, "2 Y")])
def test_history_duration_covers_the_sessions_asked(sessions: int, duration: str) -> None:
    assert mapping.history_duration(sessions) == duration


def test_history_duration_needs_a_positive_count() -> None:
    with pytest.raises(ValueError, match="positive"):
        mapping.history_duration(0)


def test_chain_expiries_and_strikes_of_one_trading_class() -> None:
    chains = [
        ib_api.OptionChain(
            "SMART", 416904, "SPXW", "100", ["20250620", "20250505", "20250509"], [5400.0, 5350.0]
        ),
        ib_api.OptionChain("CBOE", 416904, "SPXW", "100", ["20250620", "20250613"], [5450.0]),
        ib_api.OptionChain("SMART", 416904, "SPX", "100", ["20250718"], [1000.0]),
    ]
    today = date(2025, 5, 6)
    assert mapping.chain_expiries(chains, "SPXW", today) == [
        date(2025, 5, 9),
        date(2025, 6, 13),
        date(2025, 6, 20),
    ]
    assert mapping.chain_strikes(chains, "SPXW") == [5350.0, 5400.0, 5450.0]
    assert mapping.chain_expiries(chains, "VIX", today) == []


def test_contract_details_give_strikes_of_one_expiry_and_futures_expiries() -> None:
    details = [
        ib_api.ContractDetails(contract=_qualified(SP, 1)),
        ib_api.ContractDetails(contract=_qualified(SC, 2)),
        ib_api.ContractDetails(
            contract=_qualified(
                OptionContract("SPX", "SPXW", date(2025, 6, 27), 5500.0, Right.PUT), 3
            )
        ),
        ib_api.ContractDetails(contract=_qualified(VX_JUL, 4)),
        ib_api.ContractDetails(contract=_qualified(VX_JUN, 5)),
        ib_api.ContractDetails(
            contract=_qualified(FutureContract("VIX", "VX", date(2025, 5, 6)), 6)
        ),
        ib_api.ContractDetails(contract=ib_api.Contract(secType="STK", symbol="X")),
        ib_api.ContractDetails(contract=None),
    ]
    listed = [domain for domain, _ in mapping.listed_contracts(details)]
    assert len(listed) == 6
    assert mapping.option_strikes(listed, "SPXW", EXPIRY) == [5400.0, 6000.0]
    assert mapping.future_expiries(listed, "VX", date(2025, 5, 6)) == [VX_JUN.expiry, VX_JUL.expiry]


def test_ib_numbers_treat_unset_and_text_as_missing() -> None:
    assert mapping.ib_number("12.5") == 12.5
    for missing in (None, "", "abc", math.inf, 1.7976931348623157e308, True):
        assert math.isnan(mapping.ib_number(missing))
