"""Commissions and exchange fees per contract, by product (IB-like defaults, configurable).

Defaults (USD per contract, approximations of IBKR's fixed pricing plus exchange and
regulatory fees; check your own statement): SPX options 0.65 commission + 0.60 CBOE fees;
VIX options 0.65 + 0.45; VIX futures 0.85 + 1.52 CFE and NFA fees. A fill's charge is
(commission + fee) x contracts, rounded to the cent, reported as the execution's commission.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.sim.listings import Product


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Per-contract commission and exchange fees of each product."""

    spx_option_commission: float = 0.65
    spx_option_fee: float = 0.60
    vix_option_commission: float = 0.65
    vix_option_fee: float = 0.45
    vix_future_commission: float = 0.85
    vix_future_fee: float = 1.52

    def per_contract(self, product: Product) -> float:
        """Return commission plus fees for one contract of `product`."""
        if product is Product.VIX_FUTURE:
            return self.vix_future_commission + self.vix_future_fee
        if product is Product.VIX_OPTION:
            return self.vix_option_commission + self.vix_option_fee
        return self.spx_option_commission + self.spx_option_fee

    def charge(self, product: Product, contracts: int) -> float:
        """Return the charge for `contracts` contracts, to the cent."""
        return round(self.per_contract(product) * abs(contracts), 2)
