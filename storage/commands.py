"""Override commands, the runtime state they set, and rolls: tables and their functions.

Modeling choices:
- `commands` is the audit trail and the only channel from the CLI to the daemon: the CLI inserts
  a `pending` row; the daemon claims it (`pending -> applying`, a compare-and-set UPDATE, so a
  command cancelled meanwhile is never applied), carries it out and finishes it (`applying ->
  applied | rejected | failed`) with a message. `cancelled` is written by the CLI, only from
  `pending`. Every write is one short transaction that starts with its write, so a reader never
  holds a snapshot it must upgrade (SQLite's "database is locked" without waiting).
- Exactly once: a state-only effect (pause, set ...) is written in the same transaction as the
  command's final status, so a crash leaves either nothing or both; a command found `applying`
  after a crash is carried out again by the daemon, which is safe because every effect is
  idempotent or re-evaluated against the journal (a close of a structure already closed is done).
  Orders a command sends carry the tag `(command #N)` in their intent's reason, and the intent
  row is written before the order: the command's intents can always be found (`intents_of`).
- `runtime_state` holds one JSON value per key (paused, killed, skip_next_entry, ratio,
  hedge_scale); absent keys mean the defaults of `RuntimeState`. It survives restarts.
- `rolls` links a closed structure and the one opened in its place, with the reason and the net
  price per unit (order convention: negative is a net credit).
- Datetimes are naive UTC in the database (storage.tables.UTCDateTime), tz-aware in Python.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Text, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine as SqlEngine
from sqlmodel import Field, Session, SQLModel, col, select

from storage.tables import IntentRow, StructureRow, UTCDateTime

RATIO_RANGE = (1, 4)
HEDGE_SCALE_RANGE = (0.25, 4.0)


class CommandVerb(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    FLATTEN = "flatten"
    CLOSE = "close"
    ROLL = "roll"
    SET = "set"
    SKIP_ENTRY = "skip-entry"
    KILL = "kill"
    RELOAD_CONFIG = "reload-config"


class CommandStatus(StrEnum):
    PENDING = "pending"
    APPLYING = "applying"
    APPLIED = "applied"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """Return True once the daemon (or a cancel) has answered."""
        return self not in (CommandStatus.PENDING, CommandStatus.APPLYING)


class Setting(StrEnum):
    """What `set` changes."""

    RATIO = "ratio"
    HEDGE_SCALE = "hedge-scale"


class CommandRow(SQLModel, table=True):
    __tablename__ = "commands"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    verb: str
    args: str = Field(default="{}", sa_type=Text)
    status: str = Field(default=CommandStatus.PENDING.value, index=True)
    message: str = Field(default="", sa_type=Text)
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    requested_by: str = ""


class RuntimeStateRow(SQLModel, table=True):
    __tablename__ = "runtime_state"

    key: str = Field(primary_key=True)
    value: str = Field(sa_type=Text)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class RollRow(SQLModel, table=True):
    __tablename__ = "rolls"

    id: int | None = Field(default=None, primary_key=True)
    time: datetime = Field(sa_type=UTCDateTime, index=True)
    old_structure_id: int = Field(foreign_key="structures.id", index=True)
    new_structure_id: int = Field(foreign_key="structures.id", index=True)
    engine: str
    reason: str = Field(sa_type=Text)
    net_price: float
    command_id: int | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """One override command as written by the CLI and answered by the daemon."""

    id: int
    created_at: datetime
    verb: CommandVerb
    args: dict[str, Any]
    status: CommandStatus
    message: str
    applied_at: datetime | None
    requested_by: str

    @property
    def tag(self) -> str:
        """Return the tag the reasons of this command's intents end with."""
        return command_tag(self.id)

    def describe(self) -> str:
        """Return the verb with its arguments, e.g. `close 3` or `set ratio 2`."""
        return describe(self.verb, self.args)


@dataclass(frozen=True, slots=True)
class RuntimeState:
    """What the overrides have set; the defaults are those of a journal without commands."""

    paused: bool = False
    killed: bool = False
    skip_next_entry: bool = False
    ratio: int | None = None
    hedge_scale: float | None = None


@dataclass(frozen=True, slots=True)
class RollRecord:
    """A roll to journal with the command that made it."""

    old_structure_id: int
    new_structure_id: int
    engine: str
    reason: str
    net_price: float
    time: datetime


@dataclass(frozen=True, slots=True)
class CommandIntent:
    """An intent sent for a command: its id, kind, status and structure (if it names one)."""

    id: int
    kind: str
    status: str
    structure_id: int | None


RUNTIME_KEYS = frozenset(RuntimeState.__dataclass_fields__)


def command_tag(command_id: int) -> str:
    """Return `(command #N)`, the tag of the reasons of command N's intents."""
    return f"(command #{command_id})"


def describe(verb: CommandVerb, args: Mapping[str, Any]) -> str:
    """Return a command as a person types it, e.g. `flatten --engine vix`."""
    match verb:
        case CommandVerb.CLOSE | CommandVerb.ROLL:
            return f"{verb.value} {args.get('structure_id')}"
        case CommandVerb.SET:
            return f"set {args.get('name')} {args.get('value')}"
        case CommandVerb.FLATTEN if args.get("engine"):
            return f"flatten --engine {args['engine']}"
    return verb.value


def args_problem(verb: CommandVerb, args: Mapping[str, Any]) -> str | None:
    """Return why these arguments are invalid for `verb` (ranges, types), or None."""
    if verb in (CommandVerb.CLOSE, CommandVerb.ROLL):
        structure_id = args.get("structure_id")
        if not isinstance(structure_id, int) or isinstance(structure_id, bool):
            return f"{verb.value} needs a structure id (an integer), got {structure_id!r}"
        return None
    if verb is CommandVerb.FLATTEN:
        engine = args.get("engine")
        if engine not in (None, "condor", "vix"):
            return f"--engine must be condor or vix, got {engine!r}"
        return None
    if verb is CommandVerb.SET:
        return _setting_problem(args.get("name"), args.get("value"))
    return None


def _setting_problem(name: object, value: object) -> str | None:
    names = ", ".join(s.value for s in Setting)
    if name not in tuple(Setting):
        return f"cannot set {name!r}: the settings are {names}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"set {name} needs a number, got {value!r}"
    if name == Setting.RATIO:
        lo, hi = RATIO_RANGE
        if not isinstance(value, int) or not lo <= value <= hi:
            return f"ratio must be a whole number from {lo} to {hi}, got {value!r}"
        return None
    low, high = HEDGE_SCALE_RANGE
    if not low <= value <= high:
        return f"hedge-scale must be from {low} to {high}, got {value!r}"
    return None


def _now() -> datetime:
    return datetime.now(UTC)


def _command(row: CommandRow) -> Command:
    if row.id is None:
        raise ValueError("command row without an id")
    return Command(
        id=row.id,
        created_at=row.created_at,
        verb=CommandVerb(row.verb),
        args=json.loads(row.args or "{}"),
        status=CommandStatus(row.status),
        message=row.message,
        applied_at=row.applied_at,
        requested_by=row.requested_by,
    )


def submit(
    engine: SqlEngine,
    verb: CommandVerb,
    args: Mapping[str, Any] | None = None,
    requested_by: str = "",
    now: datetime | None = None,
) -> int:
    """Write a pending command and return its id; refuse invalid arguments (ValueError)."""
    arguments = dict(args or {})
    problem = args_problem(verb, arguments)
    if problem is not None:
        raise ValueError(problem)
    row = CommandRow(
        created_at=now or _now(),
        verb=verb.value,
        args=json.dumps(arguments, sort_keys=True),
        requested_by=requested_by,
    )
    with Session(engine) as session:
        session.add(row)
        session.commit()
        session.refresh(row)
        if row.id is None:
            raise RuntimeError("the command was not given an id")
        return row.id


def command(engine: SqlEngine, command_id: int) -> Command | None:
    """Return a command by id, or None if there is none."""
    with Session(engine) as session:
        row = session.get(CommandRow, command_id)
        return None if row is None else _command(row)


def commands(engine: SqlEngine, limit: int | None = None) -> list[Command]:
    """Return commands newest first (all, or the last `limit`)."""
    statement = select(CommandRow).order_by(col(CommandRow.id).desc())
    if limit is not None:
        statement = statement.limit(limit)
    with Session(engine) as session:
        return [_command(row) for row in session.exec(statement).all()]


def unfinished(engine: SqlEngine) -> list[Command]:
    """Return the commands to carry out, oldest first: applying ones (a crash) and pending ones."""
    statement = (
        select(CommandRow)
        .where(
            col(CommandRow.status).in_([CommandStatus.APPLYING.value, CommandStatus.PENDING.value])
        )
        .order_by(col(CommandRow.id))
    )
    with Session(engine) as session:
        return [_command(row) for row in session.exec(statement).all()]


def _move(
    session: Session, command_id: int, old: CommandStatus, new: CommandStatus, **values: Any
) -> bool:
    statement = (
        update(CommandRow)
        .where(col(CommandRow.id) == command_id, col(CommandRow.status) == old.value)
        .values(status=new.value, **values)
    )
    return bool(session.exec(statement).rowcount == 1)


def cancel(engine: SqlEngine, command_id: int, now: datetime | None = None) -> bool:
    """Cancel a pending command; return False if it is not pending (any more)."""
    with Session(engine) as session:
        moved = _move(
            session,
            command_id,
            CommandStatus.PENDING,
            CommandStatus.CANCELLED,
            message="cancelled from the command line",
            applied_at=now or _now(),
        )
        session.commit()
    return moved


def claim(engine: SqlEngine, command_id: int) -> bool:
    """Mark a pending command `applying`; return False if it was cancelled or taken."""
    with Session(engine) as session:
        moved = _move(session, command_id, CommandStatus.PENDING, CommandStatus.APPLYING)
        session.commit()
    return moved


def finish(
    engine: SqlEngine,
    command_id: int,
    status: CommandStatus,
    message: str,
    *,
    runtime: Mapping[str, Any] | None = None,
    roll: RollRecord | None = None,
    now: datetime | None = None,
) -> bool:
    """Answer an applying command and, in the same transaction, write its state and its roll.

    Return False (and write nothing) when the command is not `applying`.
    """
    if not status.is_final or status is CommandStatus.CANCELLED:
        raise ValueError(f"a command is finished as applied, rejected or failed, not {status}")
    at = now or _now()
    with Session(engine) as session:
        if not _move(
            session,
            command_id,
            CommandStatus.APPLYING,
            status,
            message=message,
            applied_at=at,
        ):
            session.rollback()
            return False
        _write_runtime(session, runtime or {}, at)
        if roll is not None:
            session.add(
                RollRow(
                    time=roll.time,
                    old_structure_id=roll.old_structure_id,
                    new_structure_id=roll.new_structure_id,
                    engine=roll.engine,
                    reason=roll.reason,
                    net_price=roll.net_price,
                    command_id=command_id,
                )
            )
        session.commit()
    return True


def runtime_state(engine: SqlEngine) -> RuntimeState:
    """Return the runtime state the overrides have set.

    Read on every engine cycle: a plain two-column query, no ORM objects.
    """
    table = RuntimeStateRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(sa_select(table.c.key, table.c.value)).all()
    values = {key: json.loads(value) for key, value in rows if key in RUNTIME_KEYS}
    return RuntimeState(**values)


def set_runtime(engine: SqlEngine, values: Mapping[str, Any], now: datetime | None = None) -> None:
    """Write runtime state keys (outside a command: the engine consuming skip_next_entry)."""
    with Session(engine) as session:
        _write_runtime(session, values, now or _now())
        session.commit()


def _write_runtime(session: Session, values: Mapping[str, Any], at: datetime) -> None:
    for key, value in values.items():
        if key not in RUNTIME_KEYS:
            raise KeyError(f"unknown runtime state key {key!r}")
        text = json.dumps(value)
        changed = session.exec(
            update(RuntimeStateRow)
            .where(col(RuntimeStateRow.key) == key)
            .values(value=text, updated_at=at)
        ).rowcount
        if changed == 0:
            session.add(RuntimeStateRow(key=key, value=text, updated_at=at))
            session.flush()


def intents_of(engine: SqlEngine, command_id: int) -> list[CommandIntent]:
    """Return the intents journaled for a command (their reason carries its tag), oldest first."""
    tag = command_tag(command_id)
    statement = (
        select(IntentRow)
        .where(col(IntentRow.reason).endswith(tag, autoescape=True))
        .order_by(col(IntentRow.id))
    )
    with Session(engine) as session:
        return [
            CommandIntent(
                id=row.id or 0, kind=row.kind, status=row.status, structure_id=row.structure_id
            )
            for row in session.exec(statement).all()
        ]


def structure_opened_by(engine: SqlEngine, intent_id: int) -> int | None:
    """Return the first structure an opening intent opened, or None."""
    statement = (
        select(StructureRow.id)
        .where(col(StructureRow.open_intent_id) == intent_id)
        .order_by(col(StructureRow.id))
    )
    with Session(engine) as session:
        return session.exec(statement).first()


def close_price(engine: SqlEngine, structure_id: int) -> float | None:
    """Return the net price per unit a structure was closed at, or None while it is open."""
    with Session(engine) as session:
        row = session.get(StructureRow, structure_id)
        return None if row is None else row.close_price


def rolls(engine: SqlEngine) -> list[RollRecord]:
    """Return every journaled roll, oldest first."""
    with Session(engine) as session:
        rows = session.exec(select(RollRow).order_by(col(RollRow.id))).all()
    return [
        RollRecord(
            old_structure_id=row.old_structure_id,
            new_structure_id=row.new_structure_id,
            engine=row.engine,
            reason=row.reason,
            net_price=row.net_price,
            time=row.time,
        )
        for row in rows
    ]
