"""IbMarketData: quotes of indexes, options and futures, and daily bars, from IB.

- Snapshots (`reqTickersAsync`) in bursts of `snapshot_batch` contracts, each contract's
  cached ticker blanked first. A request that met a "not subscribed" answer (the session
  switched to delayed data meanwhile) is asked again once.
- Option greeks are IB's model greeks; when they are missing or NaN they are computed locally
  (broker.ib.local_greeks) on the SPX index or on the VIX future of the option's expiry.
- A contract IB does not know quotes as NaN (broker.ib.contract_cache).
- Daily bars are TRADES bars (RTH); today's bar is dropped until the close.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import structlog

from broker.contracts import FutureContract, IndexContract, OptionContract
from broker.ib import ib_api, local_greeks, mapping
from broker.ib.contract_cache import ContractCache
from broker.ib.session import IbSession
from broker.market import DailyBar, OptionQuote, Quote, is_usable_price

log = structlog.get_logger("alvh.ib")


class IbMarketData:
    """Snapshot quotes and daily bars through the session, on cached contracts."""

    def __init__(self, session: IbSession, contracts: ContractCache) -> None:
        self._session = session
        self._contracts = contracts

    async def index_quote(self, index: IndexContract) -> Quote:
        """Return an index's quote (last trade, else the previous close)."""
        self._session.ready()
        now = self._session.now()
        [contract] = await self._contracts.qualify([index])
        if contract is None:
            return mapping.index_quote(index, None, now)
        tickers = await self._snapshots([contract])
        return mapping.index_quote(index, tickers.get(contract.conId), now)

    async def daily_bars(self, index: IndexContract, days: int) -> list[DailyBar]:
        """Return up to `days` completed daily bars of an index, oldest first."""
        session = self._session
        ib = session.ready()
        if days <= 0:
            return []
        [contract] = await self._contracts.qualify([index])
        if contract is None:
            return []
        bars = await session.call(
            ib.reqHistoricalDataAsync(
                contract,
                endDateTime="",
                durationStr=mapping.history_duration(days),
                barSizeSetting="1 day",
                whatToShow="TRADES",
                useRTH=True,
                formatDate=1,
                timeout=0,  # the adapter's own timeout applies (and raises)
            ),
            f"daily bars of {index.key}",
            session.settings.history_timeout,
        )
        return mapping.completed_bars(bars, session.now(), session.trading_calendar())[-days:]

    async def option_quotes(self, contracts: Sequence[OptionContract]) -> list[OptionQuote]:
        """Return option quotes in the order asked, with local greeks where IB sent none."""
        if not contracts:
            return []
        self._session.ready()
        now = self._session.now()
        qualified = await self._contracts.qualify(contracts)
        tickers = await self._snapshots([q for q in qualified if q is not None])
        quotes = [
            mapping.option_quote(c, tickers.get(q.conId) if q is not None else None, now)
            for c, q in zip(contracts, qualified, strict=True)
        ]
        return await self._with_local_greeks(quotes, now)

    async def future_quotes(self, contracts: Sequence[FutureContract]) -> list[Quote]:
        """Return futures quotes in the order asked."""
        if not contracts:
            return []
        self._session.ready()
        now = self._session.now()
        qualified = await self._contracts.qualify(contracts)
        tickers = await self._snapshots([q for q in qualified if q is not None])
        return [
            mapping.future_quote(c, tickers.get(q.conId) if q is not None else None, now)
            for c, q in zip(contracts, qualified, strict=True)
        ]

    async def underlying_prices(self, options: Sequence[OptionContract]) -> dict[str, float]:
        """Return the price of each option's underlying (SPX index, VIX future) by key."""
        wanted: dict[str, IndexContract | FutureContract] = {}
        for option in options:
            underlying = local_greeks.underlying_of(option)
            if underlying is not None:
                wanted[underlying.key] = underlying
        prices: dict[str, float] = {}
        for underlying in wanted.values():
            if isinstance(underlying, IndexContract):
                prices[underlying.key] = (await self.index_quote(underlying)).price
        futures = [u for u in wanted.values() if isinstance(u, FutureContract)]
        for quote in await self.future_quotes(futures):
            prices[quote.contract.key] = quote.price
        return prices

    async def _with_local_greeks(
        self, quotes: list[OptionQuote], now: datetime
    ) -> list[OptionQuote]:
        lacking = [q for q in quotes if not q.greeks.is_finite() and math.isfinite(q.quote.mid)]
        if not lacking:
            return quotes
        need = [q for q in lacking if not is_usable_price(q.underlying_price)]
        prices = await self.underlying_prices([q.contract for q in need])
        log.debug(
            "greeks computed locally: IB sent none",
            contracts=[q.contract.key for q in lacking],
        )
        settings = self._session.settings
        return local_greeks.fill_missing_greeks(
            quotes, prices, now, settings.greeks_rate, settings.greeks_dividend_yield
        )

    async def _snapshots(self, contracts: Sequence[ib_api.Contract]) -> dict[int, ib_api.Ticker]:
        """Return snapshot tickers by conId, in bursts of `snapshot_batch`."""
        unique = list({c.conId: c for c in contracts}.values())
        out: dict[int, ib_api.Ticker] = {}
        step = self._session.settings.snapshot_batch
        for start in range(0, len(unique), step):
            for ticker in await self._snapshot_burst(unique[start : start + step]):
                if ticker.contract is not None:
                    out[ticker.contract.conId] = ticker
        return out

    async def _snapshot_burst(self, contracts: Sequence[ib_api.Contract]) -> list[ib_api.Ticker]:
        session = self._session
        ib = session.ready()
        data_type = session.data_type
        what = f"quotes of {len(contracts)} contracts"
        tickers = await session.call(ib.reqTickersAsync(*self._fresh(contracts)), what)
        if session.data_type != data_type:  # switched to delayed during the request: ask again
            ib = session.ready()
            tickers = await session.call(ib.reqTickersAsync(*self._fresh(contracts)), what)
        return tickers

    def _fresh(self, contracts: Sequence[ib_api.Contract]) -> Sequence[ib_api.Contract]:
        """Blank the library's cached ticker of each contract before a new snapshot."""
        for contract in contracts:
            ticker = self._session.ib.ticker(contract)
            if ticker is not None:
                mapping.reset_ticker(ticker)
        return contracts
