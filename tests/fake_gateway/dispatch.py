"""The request table: incoming message id -> handler. Ids not listed are logged and ignored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from . import (
    account,
    contract_requests,
    executions,
    historical,
    market_data,
    order_flow,
    session_requests,
)
from .core import Client, GatewayCore
from .wire import FieldReader

Handler = Callable[[GatewayCore, Client, FieldReader], Awaitable[None]]

HANDLERS: dict[int, Handler] = {
    1: market_data.req_mkt_data,
    2: market_data.cancel_mkt_data,
    3: order_flow.place_order,
    4: order_flow.cancel_order,
    5: order_flow.req_open_orders,
    6: account.req_account_updates,
    7: executions.req_executions,
    8: session_requests.req_ids,
    9: contract_requests.req_contract_details,
    15: session_requests.ignore,  # reqAutoOpenOrders
    16: order_flow.req_all_open_orders,
    17: session_requests.req_managed_accounts,
    20: historical.req_historical_data,
    25: session_requests.ignore,  # cancelHistoricalData
    49: session_requests.req_current_time,
    58: order_flow.req_global_cancel,
    59: market_data.req_market_data_type,
    61: account.req_positions,
    62: account.req_account_summary,
    63: session_requests.ignore,  # cancelAccountSummary
    64: account.cancel_positions,
    71: session_requests.start_api,
    76: account.req_account_updates_multi,
    77: session_requests.ignore,  # cancelAccountUpdatesMulti
    78: contract_requests.req_sec_def_opt_params,
    99: executions.req_completed_orders,
}
