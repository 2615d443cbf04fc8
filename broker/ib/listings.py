"""IbListings: the listed expiries and strikes of option classes, and the futures listed.

- An option class's expiries come from `reqSecDefOptParams` (on the index's conId); an
  expiry's strikes from its contract details (which also fill the conId cache), falling back
  to reqSecDefOptParams' strikes of the whole class.
- Futures expiries come from the contract details of the symbol on CFE.
- Every answer is cached for the day (New York); an empty answer is not cached.
"""

from __future__ import annotations

from datetime import date

import structlog

from broker.contracts import IndexContract
from broker.ib import ib_api, mapping
from broker.ib.contract_cache import ContractCache
from broker.ib.session import IbSession

log = structlog.get_logger("alvh.ib")


class IbListings:
    """Option chains and futures listings from IB, cached per day."""

    def __init__(self, session: IbSession, contracts: ContractCache) -> None:
        self._session = session
        self._contracts = contracts
        self._chains: dict[str, tuple[date, list[ib_api.OptionChain]]] = {}
        self._expiries: dict[tuple[str, str], tuple[date, list[date]]] = {}
        self._strikes: dict[tuple[str, str, date], tuple[date, list[float]]] = {}
        self._futures: dict[tuple[str, str], tuple[date, list[date]]] = {}

    async def option_expiries(self, symbol: str, trading_class: str) -> list[date]:
        """Return the listed expiries of an option class, ascending."""
        today = self._session.today()
        cached = self._expiries.get((symbol, trading_class))
        if cached is not None and cached[0] == today:
            return list(cached[1])
        expiries = mapping.chain_expiries(await self._option_params(symbol), trading_class, today)
        if expiries:
            self._expiries[(symbol, trading_class)] = (today, expiries)
        return list(expiries)

    async def option_strikes(self, symbol: str, trading_class: str, expiry: date) -> list[float]:
        """Return the listed strikes of one expiry, ascending."""
        session = self._session
        today = session.today()
        key = (symbol, trading_class, expiry)
        cached = self._strikes.get(key)
        if cached is not None and cached[0] == today:
            return list(cached[1])
        ib = session.ready()
        probe = ib_api.Option(
            symbol,
            mapping.ib_date(expiry),
            exchange=mapping.OPTION_ROUTE,
            currency=mapping.CURRENCY,
            tradingClass=trading_class,
        )
        details = await session.call(
            ib.reqContractDetailsAsync(probe),
            f"contracts of {trading_class} {expiry}",
            session.settings.history_timeout,
        )
        pairs = mapping.listed_contracts(details)
        self._contracts.remember(pairs)
        strikes = mapping.option_strikes([d for d, _ in pairs], trading_class, expiry)
        if not strikes:
            strikes = mapping.chain_strikes(await self._option_params(symbol), trading_class)
            log.info("strikes of the whole class used for one expiry", expiry=str(expiry))
        if strikes:
            self._strikes[key] = (today, strikes)
        return list(strikes)

    async def future_expiries(self, symbol: str, trading_class: str) -> list[date]:
        """Return the listed expiries of a futures class, ascending."""
        session = self._session
        today = session.today()
        cached = self._futures.get((symbol, trading_class))
        if cached is not None and cached[0] == today:
            return list(cached[1])
        ib = session.ready()
        probe = ib_api.Future(symbol, exchange=mapping.FUTURE_EXCHANGE, currency=mapping.CURRENCY)
        details = await session.call(
            ib.reqContractDetailsAsync(probe),
            f"futures of {symbol}",
            session.settings.history_timeout,
        )
        pairs = mapping.listed_contracts(details)
        self._contracts.remember(pairs)
        expiries = mapping.future_expiries([d for d, _ in pairs], trading_class, today)
        if expiries:
            self._futures[(symbol, trading_class)] = (today, expiries)
        return list(expiries)

    async def _option_params(self, symbol: str) -> list[ib_api.OptionChain]:
        today = self._session.today()
        cached = self._chains.get(symbol)
        if cached is not None and cached[0] == today:
            return cached[1]
        ib = self._session.ready()
        [underlying] = await self._contracts.qualify([IndexContract(symbol)])
        if underlying is None:
            return []
        chains = await self._session.call(
            ib.reqSecDefOptParamsAsync(symbol, "", "IND", underlying.conId),
            f"option classes of {symbol}",
        )
        if chains:
            self._chains[symbol] = (today, list(chains))
        return list(chains)
