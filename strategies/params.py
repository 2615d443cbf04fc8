"""Strategy parameters: validated, frozen data with bounds (no behaviour, no I/O).

These models are the strategy's own vocabulary; `bot.config` composes them into the file
format. pydantic is used here only as a validating data container.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Frozen(BaseModel):
    """A frozen model that refuses unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CondorParams(Frozen):
    """The front engine: SPX iron condors (DESIGN.md section 2)."""

    symbol: str = Field(default="SPX", min_length=1)
    trading_class: str = Field(default="SPXW", min_length=1)
    short_delta: float = Field(default=0.16, gt=0.0, lt=0.5)
    wing_delta: float = Field(default=0.05, gt=0.0, lt=0.5)
    target_dte: int = Field(default=45, ge=1, le=365)
    min_dte: int = Field(default=40, ge=1, le=365)
    max_dte: int = Field(default=60, ge=1, le=365)
    max_loss_pct: float = Field(default=0.02, gt=0.0, le=0.25)
    take_profit_pct: float = Field(default=0.50, gt=0.0, lt=1.0)
    exit_dte: int = Field(default=21, ge=0, le=365)
    max_open: int = Field(default=3, ge=1, le=50)
    strike_window_pct: float = Field(default=0.25, gt=0.0, le=0.9)

    @model_validator(mode="after")
    def _check_order(self) -> CondorParams:
        if not self.wing_delta < self.short_delta:
            raise ValueError("wing_delta must be smaller than short_delta (wings are further out)")
        if not self.min_dte <= self.target_dte <= self.max_dte:
            raise ValueError("expected min_dte <= target_dte <= max_dte")
        if not self.exit_dte < self.min_dte:
            raise ValueError("exit_dte must be below min_dte, or a new condor would exit at once")
        return self


class RiskLimits(Frozen):
    """Limits every intent is checked against before it reaches a broker."""

    max_contracts_per_order: int = Field(default=50, ge=1, le=10_000)
    min_excess_liquidity_pct: float = Field(default=0.30, ge=0.0, lt=1.0)


class StrategyParams(Frozen):
    """Everything the pure decision code reads."""

    condor: CondorParams = CondorParams()
    risk: RiskLimits = RiskLimits()
