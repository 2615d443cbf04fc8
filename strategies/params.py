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
    wing_width: float = Field(default=0.0, ge=0.0, le=1000.0)  # points; > 0: wings by width
    target_dte: int = Field(default=45, ge=1, le=365)
    min_dte: int = Field(default=40, ge=1, le=365)
    max_dte: int = Field(default=60, ge=1, le=365)
    max_loss_pct: float = Field(default=0.02, gt=0.0, le=0.25)
    take_profit_pct: float = Field(default=0.50, gt=0.0, lt=1.0)
    exit_dte: int = Field(default=21, ge=0, le=365)
    max_open: int = Field(default=3, ge=1, le=50)
    strike_window_pct: float = Field(default=0.25, gt=0.0, le=0.9)
    stop_loss_multiple: float = Field(default=2.0, gt=0.0, le=20.0)
    roll_delta: float = Field(default=0.30, gt=0.0, lt=0.5)
    event_blackout: bool = True

    @model_validator(mode="after")
    def _check_order(self) -> CondorParams:
        if not self.wing_delta < self.short_delta:
            raise ValueError("wing_delta must be smaller than short_delta (wings are further out)")
        if not self.min_dte <= self.target_dte <= self.max_dte:
            raise ValueError("expected min_dte <= target_dte <= max_dte")
        if not self.exit_dte < self.min_dte:
            raise ValueError("exit_dte must be below min_dte, or a new condor would exit at once")
        if not self.short_delta < self.roll_delta:
            raise ValueError("roll_delta must be above short_delta, or every new condor would roll")
        return self


class VixLayerParams(Frozen):
    """The second engine: long VIX futures ladder, OTM call block, 1:N call backspread."""

    enabled: bool = True  # false: condors only (the layer's jobs open and roll nothing)
    symbol: str = Field(default="VIX", min_length=1)
    future_class: str = Field(default="VX", min_length=1)
    option_class: str = Field(default="VIX", min_length=1)
    ladder_months: tuple[int, ...] = Field(default=(2, 3, 4), min_length=1, max_length=8)
    rung_roll_days: int = Field(default=10, ge=1, le=60)  # trading days before expiry
    call_delta: float = Field(default=0.30, ge=0.25, le=0.40)
    call_strike_min: float = Field(default=22.0, gt=0.0)
    call_strike_max: float = Field(default=30.0, gt=0.0)
    call_min_dte: int = Field(default=60, ge=1, le=365)
    call_max_dte: int = Field(default=120, ge=1, le=365)
    call_roll_dte: int = Field(default=30, ge=0, le=365)  # a block is rolled out at this DTE
    backspread_base_ratio: int = Field(default=2, ge=1, le=4)
    backspread_max_ratio: int = Field(default=4, ge=1, le=4)
    backspread_long_delta: float = Field(default=0.25, gt=0.0, lt=0.5)
    addon_share: float = Field(default=0.25, gt=0.0, le=1.0)  # of the base call block
    ladder_share: float = Field(default=0.5, ge=0.0, le=1.0)  # of the scenario offset
    call_share: float = Field(default=0.3, ge=0.0, le=1.0)
    backspread_share: float = Field(default=0.2, ge=0.0, le=1.0)
    rebalance_band: float = Field(default=0.25, ge=0.0, le=1.0)  # resize only beyond +/-25%
    strike_window: tuple[float, float] = (10.0, 60.0)  # VIX strikes quoted for a decision

    @model_validator(mode="after")
    def _check_order(self) -> VixLayerParams:
        if not self.call_strike_min <= self.call_strike_max:
            raise ValueError("expected call_strike_min <= call_strike_max")
        if not self.call_roll_dte < self.call_min_dte <= self.call_max_dte:
            raise ValueError("expected call_roll_dte < call_min_dte <= call_max_dte")
        if not self.backspread_base_ratio <= self.backspread_max_ratio:
            raise ValueError("expected backspread_base_ratio <= backspread_max_ratio")
        if sorted(set(self.ladder_months)) != list(self.ladder_months) or self.ladder_months[0] < 1:
            raise ValueError("ladder_months must be ascending distinct months from 1 on")
        shares = self.ladder_share + self.call_share + self.backspread_share
        if abs(shares - 1.0) > 1e-9:
            raise ValueError(f"ladder, call and backspread shares must add up to 1, not {shares}")
        return self


class ScenarioParams(Frozen):
    """The stress both engines are repriced under to size the layer (DESIGN.md section 2)."""

    spx_move_pct: float = Field(default=-0.04, ge=-0.5, lt=0.0)
    vix_points_per_pct: float = Field(default=1.5, ge=0.0, le=10.0)  # per 1% SPX fall
    vix_reversion_per_year: float = Field(default=2.5, ge=0.0, le=50.0)  # futures respond less
    rate: float = Field(default=0.02, ge=-0.05, le=0.25)  # for repricing options only
    dividend_yield: float = Field(default=0.018, ge=0.0, le=0.2)


class HedgeParams(Frozen):
    """The hedge ratio k, its R2 band, the breadth scale and the yearly budget."""

    k_initial: float = Field(default=1.0, gt=0.0)
    k_min: float = Field(default=0.5, gt=0.0)
    k_max: float = Field(default=2.0, gt=0.0)
    k_step: float = Field(default=0.10, gt=0.0, lt=1.0)
    r2_low: float = Field(default=0.45, ge=0.0, le=1.0)
    r2_high: float = Field(default=0.65, ge=0.0, le=1.0)
    r2_window: int = Field(default=60, ge=10, le=500)
    divergence_k_scale: float = Field(default=1.2, ge=1.0, le=2.0)
    budget_pct: float = Field(default=0.03, gt=0.0, le=0.5)  # of net liquidation, rolling year

    @model_validator(mode="after")
    def _check_order(self) -> HedgeParams:
        if not self.k_min <= self.k_initial <= self.k_max:
            raise ValueError("expected k_min <= k_initial <= k_max")
        if not self.r2_low < self.r2_high:
            raise ValueError("expected r2_low < r2_high")
        return self


class SignalParams(Frozen):
    """Signal settings: MACD on breadth and SPX, VIX RSI, the divergence test."""

    macd_fast: int = Field(default=12, ge=1, le=200)
    macd_slow: int = Field(default=26, ge=2, le=400)
    macd_signal: int = Field(default=9, ge=1, le=200)
    rsi_period: int = Field(default=14, ge=2, le=200)
    rsi_low: float = Field(default=30.0, gt=0.0, lt=100.0)
    rsi_high: float = Field(default=70.0, gt=0.0, lt=100.0)
    narrowing_sessions: int = Field(default=3, ge=1, le=20)
    near_high_pct: float = Field(default=0.01, ge=0.0, le=0.2)
    high_window: int = Field(default=20, ge=2, le=250)
    history_days: int = Field(default=300, ge=60, le=2000)  # daily bars fetched for signals

    @model_validator(mode="after")
    def _check_order(self) -> SignalParams:
        if not self.macd_fast < self.macd_slow:
            raise ValueError("expected macd_fast < macd_slow")
        if not self.rsi_low < self.rsi_high:
            raise ValueError("expected rsi_low < rsi_high")
        return self


class RiskLimits(Frozen):
    """Limits every intent is checked against before it reaches a broker."""

    max_contracts_per_order: int = Field(default=50, ge=1, le=10_000)
    min_excess_liquidity_pct: float = Field(default=0.30, ge=0.0, lt=1.0)
    daily_loss_limit_pct: float = Field(default=0.02, gt=0.0, le=1.0)  # pauses new entries


class StrategyParams(Frozen):
    """Everything the pure decision code reads."""

    condor: CondorParams = CondorParams()
    vix: VixLayerParams = VixLayerParams()
    scenario: ScenarioParams = ScenarioParams()
    hedge: HedgeParams = HedgeParams()
    signals: SignalParams = SignalParams()
    risk: RiskLimits = RiskLimits()
