"""Structures the bot holds (a condor, a ladder rung...) and the intents that change them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from broker.orders import Leg


class Engine(StrEnum):
    CONDOR = "condor"  # the front engine: SPX iron condors
    VIX = "vix"  # the second engine: the VIX hedge layer


class StructureKind(StrEnum):
    IRON_CONDOR = "iron_condor"
    VERTICAL = "vertical"
    CALL_BLOCK = "call_block"
    ADDON_CALLS = "addon_calls"  # the add-on call block bought in a low VIX RSI episode
    BACKSPREAD = "backspread"
    FUTURES_RUNG = "futures_rung"


class IntentKind(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    ROLL = "roll"  # one combo: close part of a structure, open its replacement


@dataclass(frozen=True, slots=True)
class Structure:
    """An open position the bot manages as one unit.

    `legs` are per unit; `quantity` units are held. `open_price` is the net price paid per
    unit (negative for a credit), in the order convention of `broker.orders.Order`.
    """

    id: int
    engine: Engine
    kind: StructureKind
    legs: tuple[Leg, ...]
    quantity: int
    open_price: float
    opened_at: datetime
    multiplier: int = 100

    def pnl_at(self, mark: float) -> float:
        """Return the unrealized P&L in USD if the structure were valued at `mark` per unit."""
        return (mark - self.open_price) * self.multiplier * self.quantity

    @property
    def entry_credit(self) -> float:
        """Return the credit received per unit (positive), or 0 for a debit structure."""
        return max(0.0, -self.open_price)


@dataclass(frozen=True, slots=True)
class Intent:
    """A decision to trade, with the reason a person can read; the executor carries it out.

    `limit_price` is the reference net price per unit at decision time (the executor walks
    from there); `structure_id` names the structure a CLOSE or ROLL acts on.

    A ROLL's `legs` are the one combo sent (the closing legs of the part rolled plus the opening
    legs of its replacement); `result_legs` are the legs of the new structure per unit (the part
    kept plus the replacement), and `carry_price` is the mid per unit of the part kept, in the
    opening convention (what buying it would cost; 0 when nothing is kept). When the roll fills,
    the old structure closes and the new one opens, linked by a roll record.
    """

    kind: IntentKind
    engine: Engine
    structure_kind: StructureKind
    legs: tuple[Leg, ...]
    quantity: int
    limit_price: float
    reason: str
    structure_id: int | None = None
    result_legs: tuple[Leg, ...] = ()
    carry_price: float = 0.0


@dataclass(frozen=True, slots=True)
class PositionGreeks:
    """Greeks of a held position (all units x multiplier x quantity, signed).

    delta: underlying units (SPX points of exposure per point, e.g. -3.2 is short 3.2 units);
    gamma: change of that delta per point; vega: USD per vol point; theta: USD per day.
    """

    delta: float
    gamma: float
    vega: float
    theta: float

    def __add__(self, other: PositionGreeks) -> PositionGreeks:
        return PositionGreeks(
            self.delta + other.delta,
            self.gamma + other.gamma,
            self.vega + other.vega,
            self.theta + other.theta,
        )
