"""ContractCache: domain contracts qualified at IB once, their conIds kept for the session.

- A contract is qualified (`qualifyContractsAsync`) the first time it is asked for; a conId
  means IB knows it. A contract IB does not know is remembered for the day (one warning) and
  resolves to None, so it quotes as NaN and is never traded.
- Contract details read for listings (an expiry's strikes, the futures) fill the cache too,
  options with the SMART route they are traded on.
- An order's contract is its single leg, or one BAG of its qualified legs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import structlog

from broker.contracts import Contract as DomainContract
from broker.contracts import TradableContract
from broker.ib import ib_api, mapping
from broker.ib.session import IbSession
from broker.orders import Order

log = structlog.get_logger("alvh.ib")


class ContractCache:
    """Qualified IB contracts by domain key, and the keys IB does not know (by day)."""

    def __init__(self, session: IbSession) -> None:
        self._session = session
        self._contracts: dict[str, ib_api.Contract] = {}
        self._unknown: dict[str, date] = {}

    async def qualify(self, contracts: Sequence[DomainContract]) -> list[ib_api.Contract | None]:
        """Return each contract's qualified IB contract (cached), None where IB knows none."""
        today = self._session.today()
        todo: dict[str, ib_api.Contract] = {}
        for contract in contracts:
            key = contract.key
            if key in self._contracts or self._unknown.get(key) == today or key in todo:
                continue
            todo[key] = mapping.ib_contract(contract)
        if todo:
            ib = self._session.ready()
            await self._session.call(
                ib.qualifyContractsAsync(*todo.values()), f"lookup of {len(todo)} contracts"
            )
            for key, found in todo.items():  # qualified in place: a conId means IB knows it
                if found.conId:
                    self._contracts[key] = found
                else:
                    self._unknown[key] = today
                    log.warning("IB does not know this contract", contract=key)
        return [self._contracts.get(c.key) for c in contracts]

    def remember(self, pairs: Sequence[tuple[TradableContract, ib_api.Contract]]) -> None:
        """Keep contracts IB listed (from contract details) unless already cached."""
        for domain, contract in pairs:
            if contract.secType == "OPT":
                contract.exchange = mapping.OPTION_ROUTE
            self._contracts.setdefault(domain.key, contract)

    def ever_unknown(self, key: str) -> bool:
        """Return whether IB answered, on some day, that it does not know this contract."""
        return key in self._unknown

    async def order_contract(self, order: Order) -> ib_api.Contract | None:
        """Return the IB contract an order is sent on; None when a leg is unknown to IB."""
        qualified = await self.qualify([leg.contract for leg in order.legs])
        legs = [q for q in qualified if q is not None]
        if len(legs) != len(order.legs):
            return None
        return mapping.combo_contract(order, legs) if order.is_combo else legs[0]
