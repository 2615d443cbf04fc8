"""The account as TWS reports it: positions, account values, portfolio, summary.

Modeling choices (the venue has one margin number and no loan):
- NetLiquidation, TotalCashValue (= CashBalance = SettledCash) and MaintMarginReq come from
  the venue; InitMarginReq equals MaintMarginReq; EquityWithLoanValue equals NetLiquidation;
  ExcessLiquidity = AvailableFunds = BuyingPower = NetLiquidation - margin; Cushion = excess /
  NetLiquidation; GrossPositionValue sums |market value| of the option positions.
- Positions carry IB's avgCost: cost per contract including the multiplier (the venue's, so
  without commissions); a short position's avgCost is positive (credit per contract).
- Portfolio lines are marked at the venue's mid (cost when there is no sane market); futures'
  market value is their notional. Realized P&L is not tracked (0).
- Values are pushed to reqAccountUpdates subscribers on subscription, after every fill and
  every 3 minutes of venue time; positions to reqPositions subscribers after every fill.
"""

from __future__ import annotations

import math
from datetime import timedelta

from broker.account import AccountSnapshot, Position
from broker.contracts import FutureContract, OptionContract, TradableContract

from .core import Client, GatewayCore
from .messages import (
    PortfolioLine,
    account_download_end,
    account_summary,
    account_summary_end,
    account_time,
    account_update_multi,
    account_update_multi_end,
    account_value,
    portfolio_value,
    position,
    position_end,
)
from .wire import FieldReader

ACCOUNT_PUSH_EVERY = timedelta(minutes=3)
AccountValue = tuple[str, str, str]  # key, value, currency


def account_values(snapshot: AccountSnapshot, gross: float, account_id: str) -> list[AccountValue]:
    """Return the account values of a venue snapshot (see the module docstring)."""
    nlv, cash, margin = snapshot.net_liquidation, snapshot.cash, snapshot.maintenance_margin
    excess = nlv - margin
    money = {
        "NetLiquidation": nlv, "TotalCashValue": cash, "CashBalance": cash, "SettledCash": cash,
        "EquityWithLoanValue": nlv, "GrossPositionValue": gross, "MaintMarginReq": margin,
        "InitMarginReq": margin, "FullMaintMarginReq": margin, "FullInitMarginReq": margin,
        "AvailableFunds": excess, "FullAvailableFunds": excess, "ExcessLiquidity": excess,
        "FullExcessLiquidity": excess, "BuyingPower": excess,
    }  # fmt: skip
    values = [("AccountCode", account_id, ""), ("AccountType", "INDIVIDUAL", "")]
    values += [(key, f"{amount:.2f}", "USD") for key, amount in money.items()]
    values.append(("Cushion", f"{excess / nlv:.6f}" if nlv else "0", ""))
    return values


async def portfolio(core: GatewayCore) -> list[PortfolioLine]:
    """Return every position valued at the venue's mid."""
    held = await core.exchange.positions()
    options = [p.contract for p in held if isinstance(p.contract, OptionContract)]
    futures = [p.contract for p in held if isinstance(p.contract, FutureContract)]
    mids = {q.contract.key: q.quote.mid for q in await core.exchange.option_quotes(options)}
    mids.update({q.contract.key: q.mid for q in await core.exchange.future_quotes(futures)})
    return [_line(core, p, mids.get(p.contract.key, math.nan)) for p in held]


def _line(core: GatewayCore, held: Position, mid: float) -> PortfolioLine:
    multiplier = held.contract.multiplier
    price = mid if math.isfinite(mid) else held.avg_cost / multiplier
    value = held.quantity * multiplier * price
    wire = core.registry.describe(held.contract)
    return PortfolioLine(
        wire, held.quantity, price, value, held.avg_cost, value - held.quantity * held.avg_cost
    )


async def _values(core: GatewayCore) -> tuple[list[AccountValue], list[PortfolioLine]]:
    lines = await portfolio(core)
    gross = sum(abs(line.market_value) for line in lines if line.contract.sec_type == "OPT")
    return account_values(await core.exchange.account(), gross, core.account_id), lines


async def send_account(core: GatewayCore, clients: list[Client]) -> None:
    """Send account values, portfolio lines and the update time to `clients`."""
    if not clients:
        return
    values, lines = await _values(core)
    for key, value, currency in values:
        core.send_to(clients, account_value(key, value, currency, core.account_id))
    for line in lines:
        core.send_to(clients, portfolio_value(line, core.account_id))
    core.send_to(clients, account_time(core.now().strftime("%H:%M")))
    core.last_account_push = core.now()


async def send_positions(
    core: GatewayCore, clients: list[Client], touched: set[TradableContract]
) -> None:
    """Send every position (and a zero for each `touched` contract now flat) to `clients`."""
    if not clients:
        return
    held = await core.exchange.positions()
    for p in held:
        wire = core.registry.describe(p.contract)
        core.send_to(clients, position(core.account_id, wire, p.quantity, p.avg_cost))
    still = {p.contract.key for p in held}
    for contract in sorted(touched, key=lambda c: c.key):
        if contract.key not in still:
            wire = core.registry.describe(contract)
            core.send_to(clients, position(core.account_id, wire, 0, 0))


async def push_after_fills(core: GatewayCore, touched: set[TradableContract]) -> None:
    """Tell subscribers about positions and the account after executions."""
    await send_positions(core, [c for c in core.open_clients() if c.wants_positions], touched)
    await send_account(core, [c for c in core.open_clients() if c.wants_account])


async def push_if_due(core: GatewayCore) -> None:
    """Refresh account subscribers every ACCOUNT_PUSH_EVERY of venue time."""
    last = core.last_account_push
    if last is None or core.now() - last >= ACCOUNT_PUSH_EVERY:
        await send_account(core, [c for c in core.open_clients() if c.wants_account])


async def req_positions(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """61: every position, then positionEnd; later fills are pushed."""
    client.wants_positions = True
    await send_positions(core, [client], set())
    client.send(position_end())


async def cancel_positions(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """64: stop pushing positions."""
    client.wants_positions = False


async def req_account_updates(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """6: subscribe (values, portfolio, time, accountDownloadEnd) or unsubscribe."""
    reader.skip(1)
    client.wants_account = reader.boolean()
    if client.wants_account:
        await send_account(core, [client])
        client.send(account_download_end(core.account_id))


async def req_account_updates_multi(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """76: the account values once, tagged with the request id, then the end."""
    reader.skip(1)
    req_id = reader.integer()
    values, _ = await _values(core)
    for key, value, currency in values:
        client.send(account_update_multi(req_id, core.account_id, key, value, currency))
    client.send(account_update_multi_end(req_id))


async def req_account_summary(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """62: the requested tags the fake knows, then the end."""
    reader.skip(1)
    req_id = reader.integer()
    reader.skip(1)  # group
    tags = {t.strip() for t in reader.text().split(",")}
    values, _ = await _values(core)
    for key, value, currency in values:
        if key in tags:
            client.send(account_summary(req_id, core.account_id, key, value, currency))
    client.send(account_summary_end(req_id))
