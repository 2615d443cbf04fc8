"""Pure mapping between journal rows and domain objects (no sessions, no I/O)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypedDict

from broker.contracts import FutureContract, OptionContract, Right, SecType, TradableContract
from broker.orders import Fill, Leg, OrderState, OrderStatus, Side, intent_id_from_ref
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from storage.tables import FillRow, IntentRow, IntentStatus, LegRow, OrderRow, StructureRow


class ContractColumns(TypedDict):
    sec_type: str
    symbol: str
    trading_class: str
    expiry: date
    strike: float | None
    right: str | None
    multiplier: int
    exchange: str


def contract_to_columns(contract: TradableContract) -> ContractColumns:
    """Flatten a tradable contract into journal columns; refuse anything else."""
    if isinstance(contract, OptionContract):
        return ContractColumns(
            sec_type=SecType.OPTION.value,
            symbol=contract.symbol,
            trading_class=contract.trading_class,
            expiry=contract.expiry,
            strike=contract.strike,
            right=contract.right.value,
            multiplier=contract.multiplier,
            exchange=contract.exchange,
        )
    if isinstance(contract, FutureContract):
        return ContractColumns(
            sec_type=SecType.FUTURE.value,
            symbol=contract.symbol,
            trading_class=contract.trading_class,
            expiry=contract.expiry,
            strike=None,
            right=None,
            multiplier=contract.multiplier,
            exchange=contract.exchange,
        )
    raise TypeError(f"not a tradable contract: {contract!r}")


def contract_from_columns(columns: ContractColumns) -> TradableContract:
    """Rebuild a tradable contract from its journal columns."""
    sec_type = SecType(columns["sec_type"])
    if sec_type is SecType.OPTION:
        strike, right = columns["strike"], columns["right"]
        if strike is None or right is None:
            raise ValueError(f"option columns without strike or right: {columns!r}")
        return OptionContract(
            symbol=columns["symbol"],
            trading_class=columns["trading_class"],
            expiry=columns["expiry"],
            strike=strike,
            right=Right(right),
            multiplier=columns["multiplier"],
            exchange=columns["exchange"],
        )
    if sec_type is SecType.FUTURE:
        return FutureContract(
            symbol=columns["symbol"],
            trading_class=columns["trading_class"],
            expiry=columns["expiry"],
            multiplier=columns["multiplier"],
            exchange=columns["exchange"],
        )
    raise ValueError(f"not a tradable security type: {sec_type}")


def columns_of_row(row: LegRow | FillRow) -> ContractColumns:
    """Pick the contract columns out of a leg or fill row."""
    return ContractColumns(
        sec_type=row.sec_type,
        symbol=row.symbol,
        trading_class=row.trading_class,
        expiry=row.expiry,
        strike=row.strike,
        right=row.right,
        multiplier=row.multiplier,
        exchange=row.exchange,
    )


def leg_to_row(leg: Leg, *, structure_id: int, position: int) -> LegRow:
    """Build the legs row of one leg of a structure."""
    return LegRow(
        structure_id=structure_id,
        position=position,
        side=leg.side.value,
        ratio=leg.ratio,
        **contract_to_columns(leg.contract),
    )


def leg_from_row(row: LegRow) -> Leg:
    """Rebuild a domain leg from its row."""
    return Leg(contract_from_columns(columns_of_row(row)), Side(row.side), row.ratio)


def leg_to_dict(leg: Leg) -> dict[str, Any]:
    """Turn a leg into JSON-ready primitives."""
    columns = contract_to_columns(leg.contract)
    return {
        **columns,
        "expiry": columns["expiry"].isoformat(),
        "side": leg.side.value,
        "ratio": leg.ratio,
    }


def leg_from_dict(data: dict[str, Any]) -> Leg:
    """Rebuild a leg from the primitives of `leg_to_dict`."""
    columns = ContractColumns(
        sec_type=str(data["sec_type"]),
        symbol=str(data["symbol"]),
        trading_class=str(data["trading_class"]),
        expiry=date.fromisoformat(data["expiry"]),
        strike=None if data["strike"] is None else float(data["strike"]),
        right=data["right"],
        multiplier=int(data["multiplier"]),
        exchange=str(data["exchange"]),
    )
    return Leg(contract_from_columns(columns), Side(data["side"]), int(data["ratio"]))


def legs_to_json(legs: Sequence[Leg]) -> str:
    """Serialize legs to JSON (floats round-trip exactly)."""
    return json.dumps([leg_to_dict(leg) for leg in legs])


def legs_from_json(text: str) -> tuple[Leg, ...]:
    """Rebuild legs serialized by `legs_to_json`."""
    return tuple(leg_from_dict(item) for item in json.loads(text))


def intent_to_row(intent: Intent, at: datetime) -> IntentRow:
    """Build the intents row of a new intent."""
    return IntentRow(
        created_at=at,
        kind=intent.kind.value,
        engine=intent.engine.value,
        structure_kind=intent.structure_kind.value,
        structure_id=intent.structure_id,
        quantity=intent.quantity,
        limit_price=intent.limit_price,
        reason=intent.reason,
        legs_json=legs_to_json(intent.legs),
        status=IntentStatus.NEW.value,
        status_message="",
        updated_at=at,
    )


def intent_from_row(row: IntentRow) -> Intent:
    """Rebuild the domain intent of a row."""
    return Intent(
        kind=IntentKind(row.kind),
        engine=Engine(row.engine),
        structure_kind=StructureKind(row.structure_kind),
        legs=legs_from_json(row.legs_json),
        quantity=row.quantity,
        limit_price=row.limit_price,
        reason=row.reason,
        structure_id=row.structure_id,
    )


def fill_to_row(fill: Fill) -> FillRow:
    """Build the fills row of an execution; the intent id is parsed from the order ref."""
    return FillRow(
        exec_id=fill.exec_id,
        order_ref=fill.order_ref,
        intent_id=intent_id_from_ref(fill.order_ref),
        side=fill.side.value,
        quantity=fill.quantity,
        price=fill.price,
        commission=fill.commission,
        time=fill.time,
        **contract_to_columns(fill.contract),
    )


def fill_from_row(row: FillRow) -> Fill:
    """Rebuild the domain fill of a row."""
    return Fill(
        exec_id=row.exec_id,
        order_ref=row.order_ref,
        contract=contract_from_columns(columns_of_row(row)),
        side=Side(row.side),
        quantity=row.quantity,
        price=row.price,
        commission=row.commission,
        time=row.time,
    )


def order_state_from_row(row: OrderRow) -> OrderState:
    """Return the last known state of an order from its row."""
    return OrderState(
        ref=row.ref,
        broker_order_id=row.broker_order_id or "",
        status=OrderStatus(row.status),
        filled=row.filled,
        remaining=row.remaining,
        limit_price=row.limit_price,
        avg_fill_price=row.avg_fill_price,
        message=row.message,
    )


def structure_from_rows(row: StructureRow, legs: Sequence[LegRow]) -> Structure:
    """Rebuild a domain structure from its row and its legs rows."""
    if row.id is None:
        raise ValueError("structure row has no id")
    ordered = sorted(legs, key=lambda leg: leg.position)
    return Structure(
        id=row.id,
        engine=Engine(row.engine),
        kind=StructureKind(row.kind),
        legs=tuple(leg_from_row(leg) for leg in ordered),
        quantity=row.quantity,
        open_price=row.open_price,
        opened_at=row.opened_at,
        multiplier=row.multiplier,
    )


def realized_pnl(
    *, open_price: float, close_price: float, multiplier: int, quantity: int, commissions: float
) -> float:
    """Return the realized P&L of a round trip in the order price convention."""
    return -(open_price + close_price) * multiplier * quantity - commissions
