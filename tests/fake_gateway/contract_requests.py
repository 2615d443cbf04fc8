"""Contract requests: reqContractDetails and reqSecDefOptParams.

Modeling choices:
- lastTradeDateOrContractMonth is the expiry; when the contract trades until its expiry day
  (SPXW, VIX futures) the last trade time follows it ("20180420 16:15 US/Eastern"); when it
  stops the day before (SPX AM monthlies, VIX options) only the date is sent.
- Contract details list every match (so an ambiguous request gets several rows, and
  ib_async's qualifyContracts says ambiguous); no match is error 200 with the request id.
- Option chains come from the venue's listings: for SPX two trading classes (SPX monthlies,
  SPXW weeklies), for VIX one; each is answered for the exchanges CBOE and SMART (as TWS
  lists one row per exchange). Strikes are those listed now (SPX: every 5 points from half
  to one and a half times spot; VIX: 9..50 by 1, 55..100 by 5). An unknown underlying gets
  only the end message.
"""

from __future__ import annotations

from broker.calendar import NY
from broker.contracts import FutureContract, OptionContract

from .contract_lookup import OPTION_CLASSES, ContractQuery, resolve
from .contracts import INDEX_CON_IDS
from .core import Client, GatewayCore
from .market_data import NO_DEFINITION
from .messages import (
    contract_data,
    contract_data_end,
    error,
    sec_def_opt_params,
    sec_def_opt_params_end,
)
from .wire import FieldReader

CHAIN_EXCHANGES = ("CBOE", "SMART")


async def req_contract_details(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """9: one contractData per match, then contractDataEnd; none: error 200."""
    reader.skip(1)  # version
    req_id = reader.integer()
    found = await resolve(ContractQuery.read(reader), core.exchange, core.registry)
    if not found:
        client.send(error(req_id, 200, NO_DEFINITION))
        return
    listings = core.exchange.market.listings
    for contract in found:
        last_trade = None
        if isinstance(contract, OptionContract | FutureContract):
            last_trade = listings.last_trade_time(contract)
            if last_trade.astimezone(NY).date() != contract.expiry:
                last_trade = None  # lastTradeDateOrContractMonth must stay the expiry
        client.send(contract_data(req_id, core.registry.details(contract, last_trade)))
    client.send(contract_data_end(req_id))


async def req_sec_def_opt_params(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """78: expiries and strikes per trading class and exchange, then the end."""
    req_id = reader.integer()
    symbol = reader.text().upper()
    fop_exchange = reader.text().upper()
    sec_type = reader.text().upper()
    classes = OPTION_CLASSES.get(symbol, ()) if sec_type in ("IND", "") else ()
    for trading_class in classes:
        expiries = await core.exchange.option_expiries(symbol, trading_class)
        if not expiries:
            continue
        strikes = await core.exchange.option_strikes(symbol, trading_class, expiries[0])
        days = [e.strftime("%Y%m%d") for e in expiries]
        for exchange in CHAIN_EXCHANGES:
            if fop_exchange and fop_exchange != exchange:
                continue
            client.send(sec_def_opt_params(
                req_id, exchange, INDEX_CON_IDS[symbol], trading_class, "100", days, strikes
            ))  # fmt: skip
    client.send(sec_def_opt_params_end(req_id))
