"""Journal tables: append-only facts about intents, orders, fills, structures and equity.

Datetimes are stored as naive UTC (SQLite keeps no zone) and come back tz-aware UTC.
"""

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Dialect, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class IntentStatus(StrEnum):
    NEW = "new"
    SENT = "sent"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    FAILED = "failed"


IN_FLIGHT_STATUSES = (IntentStatus.NEW, IntentStatus.SENT)


class StructureStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class UTCDateTime(TypeDecorator[datetime]):
    """Store tz-aware datetimes as naive UTC; return them tz-aware UTC; refuse naive ones."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to naive UTC for storage."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be journaled")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to a stored naive datetime."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class IntentRow(SQLModel, table=True):
    __tablename__ = "intents"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    kind: str
    engine: str
    structure_kind: str
    structure_id: int | None = Field(default=None, index=True)
    quantity: int
    limit_price: float
    reason: str = Field(sa_type=Text)
    legs_json: str = Field(sa_type=Text)
    status: str = Field(default=IntentStatus.NEW.value, index=True)
    status_message: str = Field(default="", sa_type=Text)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class OrderRow(SQLModel, table=True):
    __tablename__ = "orders"

    id: int | None = Field(default=None, primary_key=True)
    intent_id: int = Field(foreign_key="intents.id", unique=True)
    ref: str = Field(unique=True)
    broker_order_id: str | None = None
    limit_price: float
    quantity: int
    filled: int = 0
    remaining: int
    avg_fill_price: float | None = None
    status: str
    message: str = Field(default="", sa_type=Text)
    placed_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class OrderEventRow(SQLModel, table=True):
    __tablename__ = "order_events"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(index=True)
    time: datetime = Field(sa_type=UTCDateTime)
    status: str
    filled: int
    remaining: int
    limit_price: float
    avg_fill_price: float | None = None
    message: str = Field(default="", sa_type=Text)


class FillRow(SQLModel, table=True):
    __tablename__ = "fills"

    id: int | None = Field(default=None, primary_key=True)
    exec_id: str = Field(unique=True)
    order_ref: str = Field(index=True)
    intent_id: int | None = Field(default=None, index=True)
    sec_type: str
    symbol: str
    trading_class: str
    expiry: date
    strike: float | None = None
    right: str | None = None
    multiplier: int
    exchange: str
    side: str
    quantity: int
    price: float
    commission: float
    time: datetime = Field(sa_type=UTCDateTime, index=True)


class StructureRow(SQLModel, table=True):
    __tablename__ = "structures"

    id: int | None = Field(default=None, primary_key=True)
    engine: str
    kind: str
    status: str = Field(default=StructureStatus.OPEN.value, index=True)
    quantity: int
    open_price: float
    multiplier: int
    opened_at: datetime = Field(sa_type=UTCDateTime)
    open_intent_id: int = Field(foreign_key="intents.id", index=True)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    close_price: float | None = None
    close_reason: str | None = Field(default=None, sa_type=Text)
    realized_pnl: float | None = None
    mark: float | None = None  # last net value per unit (order convention), for status
    marked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delta: float | None = None  # position greeks at the last mark (broker.structures)
    gamma: float | None = None
    vega: float | None = None
    theta: float | None = None


class LegRow(SQLModel, table=True):
    __tablename__ = "legs"

    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structures.id", index=True)
    position: int
    sec_type: str
    symbol: str
    trading_class: str
    expiry: date
    strike: float | None = None
    right: str | None = None
    multiplier: int
    exchange: str
    side: str
    ratio: int


class MarkRow(SQLModel, table=True):
    """The last mark of each structure on each New York day: day logs rebuild from it."""

    __tablename__ = "structure_marks"
    __table_args__ = (UniqueConstraint("structure_id", "day", name="uq_structure_marks_day"),)

    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structures.id", index=True)
    day: date
    mark: float
    marked_at: datetime = Field(sa_type=UTCDateTime)
    delta: float | None = None
    gamma: float | None = None
    vega: float | None = None
    theta: float | None = None


class EquityRow(SQLModel, table=True):
    __tablename__ = "equity"

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(unique=True)
    time: datetime = Field(sa_type=UTCDateTime)
    net_liquidation: float
    cash: float
    maintenance_margin: float
