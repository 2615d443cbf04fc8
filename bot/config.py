"""The configuration file: TOML loaded into frozen pydantic models, every error reported at once."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, Field, ValidationError, field_validator

from broker.errors import ConfigError
from broker.ib.settings import IbSettings
from strategies.params import Frozen, StrategyParams


def _check_crontabs(value: tuple[str, ...]) -> tuple[str, ...]:
    for expr in value:
        try:
            CronTrigger.from_crontab(expr, timezone="America/New_York")
        except ValueError as exc:
            raise ValueError(f"{expr!r} is not a crontab expression ({exc})") from exc
    return value


Crontabs = tuple[str, ...]


class AccountConfig(Frozen):
    broker: Literal["sim", "ib"] = "sim"
    allow_live: bool = False


class DatabaseConfig(Frozen):
    url: str = Field(default="sqlite:///var/alvh.sqlite", min_length=1)


class LoggingConfig(Frozen):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_path: str = Field(default="logs/alvh.jsonl", min_length=1)
    keep_days: int = Field(default=30, ge=1, le=3650)


class SimFeesConfig(Frozen):
    """Commission and exchange fees per contract (USD), IB-like defaults."""

    spx_option_commission: float = Field(default=0.65, ge=0.0, le=100.0)
    spx_option_fee: float = Field(default=0.60, ge=0.0, le=100.0)
    vix_option_commission: float = Field(default=0.65, ge=0.0, le=100.0)
    vix_option_fee: float = Field(default=0.45, ge=0.0, le=100.0)
    vix_future_commission: float = Field(default=0.85, ge=0.0, le=100.0)
    vix_future_fee: float = Field(default=1.52, ge=0.0, le=100.0)


class SimDataConfig(Frozen):
    """User CSV files replacing the built-in series (empty: built in)."""

    spx_csv: str = ""
    vix_csv: str = ""
    vix_futures_csv: str = ""
    breadth_csv: str = ""


class SimConfig(Frozen):
    """The embedded simulated paper exchange."""

    start: date = date(2018, 1, 2)
    speed: float = Field(default=2520.0, gt=0.0, le=1e9)
    account_id: str = Field(default="DUSIM0001", pattern=r"^DU")
    starting_cash: float = Field(default=1_000_000.0, gt=0.0, le=1e12)
    venue_path: str = Field(default="var/sim-venue.sqlite", min_length=1)
    rate: float = Field(default=0.02, ge=-0.05, le=0.25)
    dividend_yield: float = Field(default=0.018, ge=0.0, le=0.2)
    future_initial_margin: float = Field(default=8000.0, ge=0.0, le=1e6)
    fees: SimFeesConfig = SimFeesConfig()
    data: SimDataConfig = SimDataConfig()


class ScheduleConfig(Frozen):
    """Crontab expressions (America/New_York) per job; a job may have several."""

    timezone: Literal["America/New_York"] = "America/New_York"
    reconcile: Crontabs = ("31 9 * * mon-fri",)
    signals: Crontabs = ("40 9 * * mon-fri",)
    condor_entry: Crontabs = ("0 10 * * mon",)
    rolls: Crontabs = ("15 10 * * mon-fri",)
    hedge: Crontabs = ("30 10 * * mon-fri",)
    manage: Crontabs = ("45 9 * * mon-fri", "*/15 10-15 * * mon-fri")
    daily_close: Crontabs = ("20 16 * * mon-fri",)

    @field_validator(
        "reconcile", "signals", "condor_entry", "rolls", "hedge", "manage", "daily_close"
    )
    @classmethod
    def _valid_crontabs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_crontabs(value)


class ExecutionConfig(Frozen):
    """How the executor works a limit order: from mid toward the natural price."""

    walk_steps: int = Field(default=4, ge=0, le=20)
    step_seconds: float = Field(default=30.0, gt=0.0, le=600.0)
    tick: float = Field(default=0.05, gt=0.0, le=1.0)


class ReportsConfig(Frozen):
    """The daily fill and roll log written after the close (bot/daily_report.py)."""

    enabled: bool = True
    dir: str = Field(default="reports", min_length=1)


DEFAULT_EVENTS_CSV = "config/macro_events.csv"
SHIPPED_EVENTS_CSV = Path(__file__).resolve().parents[1] / DEFAULT_EVENTS_CSV


class CalendarConfig(Frozen):
    """The macro calendar: CPI, PPI and FOMC dates (user-editable; `alvh events add`)."""

    events_csv: str = Field(default=DEFAULT_EVENTS_CSV, min_length=1)

    @property
    def events_path(self) -> Path:
        """Return the file: relative paths from the working directory; the default one falls
        back to the copy shipped with the project when run from elsewhere."""
        path = Path(self.events_csv)
        if self.events_csv == DEFAULT_EVENTS_CSV and not path.exists():
            return SHIPPED_EVENTS_CSV
        return path


class AppConfig(Frozen):
    """The whole configuration file."""

    schema_version: Literal[1] = 1
    account: AccountConfig = AccountConfig()
    database: DatabaseConfig = DatabaseConfig()
    logging: LoggingConfig = LoggingConfig()
    sim: SimConfig = SimConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    execution: ExecutionConfig = ExecutionConfig()
    reports: ReportsConfig = ReportsConfig()
    calendar: CalendarConfig = CalendarConfig()
    ib: IbSettings = IbSettings()
    strategy: StrategyParams = StrategyParams()


def load_config(path: Path | str) -> AppConfig:
    """Load and validate a config file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(path, err) for err in exc.errors()]
        raise ConfigError("\n".join(problems)) from exc


def _describe(path: Path, err: Any) -> str:
    """Return one line: the file, the dotted key, the value found and what was expected."""
    loc = tuple(str(part) for part in err["loc"])
    key = ".".join(loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        valid = ", ".join(sorted(_fields_at(loc[:-1]))) or "none"
        return f"{path}: {key}: unknown key (valid keys here: {valid})"
    if kind == "missing":
        return f"{path}: {key}: required key is missing"
    message = str(err["msg"])
    for prefix in ("Value error, ", "Input should be "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
            if prefix == "Input should be ":
                message = "expected " + message
    return f"{path}: {key} = {err['input']!r}: {message}"


def _fields_at(loc: tuple[str, ...]) -> list[str]:
    """Return the valid keys of the model found at `loc` inside AppConfig."""
    model: type[BaseModel] = AppConfig
    for part in loc:
        field = model.model_fields.get(part)
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)
