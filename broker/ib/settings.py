"""How to reach IB Gateway (or TWS) and how patient to be with it: the `[ib]` config section.

Frozen and strict like the rest of the config: an unknown key or an out-of-range value is an
error naming the key. The paper guard (broker.paper_guard) reads `port` and the account IB
reports; nothing here can switch it off.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PAPER_GATEWAY_PORT = 4002  # IB Gateway, paper account (TWS paper: 7497)


class IbSettings(BaseModel):
    """Connection, market data and timing settings of the IB adapter (broker.ib.adapter)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(default="127.0.0.1", min_length=1, max_length=255)
    port: int = Field(default=PAPER_GATEWAY_PORT, ge=1, le=65535)
    client_id: int = Field(default=17, ge=0, le=2_147_483_646)
    # "" = the one account this login manages; required when the login manages several.
    account: str = Field(default="", max_length=32, pattern=r"^[A-Za-z0-9]*$")
    # "live" falls back to "delayed" (type 3) by itself when IB says the data is not subscribed.
    market_data_type: Literal["live", "delayed"] = "live"
    connect_timeout: float = Field(default=15.0, gt=0.0, le=300.0)
    request_timeout: float = Field(default=20.0, gt=0.0, le=600.0)
    history_timeout: float = Field(default=60.0, gt=0.0, le=600.0)
    order_ack_timeout: float = Field(default=5.0, gt=0.0, le=120.0)
    # A leg fill is reported only with its commission: wait this long for IB's report.
    commission_timeout: float = Field(default=5.0, ge=0.0, le=120.0)
    reconnect_initial: float = Field(default=2.0, gt=0.0, le=600.0)
    reconnect_max: float = Field(default=300.0, gt=0.0, le=3600.0)
    snapshot_batch: int = Field(default=50, ge=1, le=100)  # market data lines per burst
    # IB what-if margin (true) or the local risk-based estimate of broker.margin (false).
    what_if: bool = True
    future_margin: float = Field(default=8000.0, ge=0.0, le=1e6)  # USD per VIX future (estimate)
    # Used only when IB sends no model greeks and they are computed locally.
    greeks_rate: float = Field(default=0.04, ge=-0.05, le=0.25)
    greeks_dividend_yield: float = Field(default=0.013, ge=0.0, le=0.2)

    @model_validator(mode="after")
    def _backoff_grows(self) -> IbSettings:
        if self.reconnect_max < self.reconnect_initial:
            raise ValueError(
                f"reconnect_max ({self.reconnect_max}) must be at least reconnect_initial "
                f"({self.reconnect_initial})"
            )
        return self

    @property
    def market_data_type_code(self) -> int:
        """Return IB's market data type number: 1 live, 3 delayed."""
        return 1 if self.market_data_type == "live" else 3

    def reconnect_delay(self, attempt: int) -> float:
        """Return the wait before reconnect attempt `attempt` (1, 2, ...): doubling, capped."""
        if attempt < 1:
            raise ValueError(f"attempt counts from 1, got {attempt}")
        return min(self.reconnect_max, self.reconnect_initial * 2.0 ** min(attempt - 1, 60))
