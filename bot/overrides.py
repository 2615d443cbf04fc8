"""Apply override commands between cycles, and screen a cycle's intents against what they set.

Modeling choices:
- The daemon drains the `commands` table (storage/commands.py) oldest first, always holding the
  engine's job lock (`TradingEngine.before_job` and `between_jobs`), so a command never runs
  during a cycle. Each command is claimed (`pending -> applying`), carried out, then answered
  with `applied`, `rejected` (refused as asked: a structure not open, a killed daemon) or
  `failed` (tried and did not fully happen: an order not filled, no new condor to roll into).
- A command found `applying` was interrupted by a crash; it is carried out again after the
  start-up reconcile has finished its orders. Every effect is idempotent or re-evaluated: state
  verbs write the same state again; a close or flatten closes what is still open; a roll closes
  the old condor if it is still open and opens a new one only if none of its own opening intents
  (found by the `(command #N)` tag in their reason) filled. Nothing happens twice.
- `pause` stops new opening intents of the strategy; exits and management go on, and operator
  commands (close, flatten, roll) still trade. `kill` cancels every working order at the venue,
  reconciles, and then nothing is sent at all (cycles drop every intent; order verbs are
  rejected) until `resume`, which clears both pause and kill. `flatten` pauses after closing.
- `skip-entry` is consumed by the next condor entry window, whatever it would have done.
- `set ratio` and `set hedge-scale` only store the override; the VIX layer reads it.
- `reload-config` re-reads the file the daemon was started with. A bad file is rejected with its
  errors and the old config stays. strategy, execution and reports take effect at once; changes
  to sections wired at start (account, database, logging, sim, schedule) are named in the
  answer as needing a restart.
- Closing orders go through the executor like any other: journaled intent first, limit walked
  from mid to natural, fills journaled, structure closed. A walk's prices come from the quotes
  at its start, so a market that moves away (by one tick, on a one-tick VIX future) can leave
  it unfilled: `close`, `flatten` and the close of a `roll` then walk once more from fresh
  quotes (`CLOSE_WALKS`), for what is still open. A refused intent, a rejected order or missing
  quotes are not tried again; the answer lists every walk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import DBAPIError

from bot.config import AppConfig, load_config
from bot.executor import Outcome
from bot.reconcile import reconcile
from bot.snapshots import SnapshotNeeds, market_snapshot, quotes_of
from broker.calendar import NY
from broker.errors import BrokerUnavailable, ConfigError
from broker.orders import OrderStatus
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from storage import commands
from storage.commands import (
    Command,
    CommandStatus,
    CommandVerb,
    RollRecord,
    RuntimeState,
    Setting,
)
from strategies.condor_entry import propose_condor
from strategies.decision import Skip
from strategies.structure_orders import close_intent

if TYPE_CHECKING:
    from bot.engine import TradingEngine

log = structlog.get_logger("alvh.overrides")

RESTART_SECTIONS = ("account", "database", "logging", "sim", "schedule")
CLOSE_WALKS = 2  # walks of an operator's close; the second from fresh quotes


@dataclass(frozen=True)
class Answer:
    """The daemon's answer to a command, with the state it sets and the roll it made."""

    status: CommandStatus
    message: str
    runtime: dict[str, Any] = field(default_factory=dict)
    roll: RollRecord | None = None


def screen_intents(
    intents: Iterable[Intent], runtime: RuntimeState, entry: bool
) -> tuple[list[Intent], list[Skip]]:
    """Return the intents a cycle may send under the overrides, and the ones held back."""
    kept: list[Intent] = []
    held: list[Skip] = []
    for intent in intents:
        why = _held_back(intent, runtime, entry)
        if why is None:
            kept.append(intent)
        else:
            held.append(Skip(f"{intent.kind.value} {intent.structure_kind.value}", why))
    return kept, held


def _held_back(intent: Intent, runtime: RuntimeState, entry: bool) -> str | None:
    if runtime.killed:
        return "killed by an override: no orders until `alvh resume`"
    if intent.kind is not IntentKind.OPEN:
        return None
    if runtime.paused:
        return "paused by an override: no new positions until `alvh resume`"
    if entry and runtime.skip_next_entry:
        return "skip-entry override: this entry window opens nothing"
    return None


class CommandApplier:
    """Carries out the pending commands for one engine; call it holding the engine's lock."""

    def __init__(self, engine: TradingEngine, config_path: Path | None = None) -> None:
        self.engine = engine
        self.config_path = config_path

    @property
    def _db(self) -> SqlEngine:
        return self.engine.journal.engine

    async def apply_pending(self) -> list[int]:
        """Apply every unfinished command, oldest first; return the ids answered."""
        try:
            return await self._apply_all()
        except DBAPIError as exc:  # a busy database: the next pass goes on where this one stopped
            log.warning("commands not applied now: database error", error=str(exc.orig))
            return []

    async def _apply_all(self) -> list[int]:
        answered: list[int] = []
        for command in commands.unfinished(self._db):
            resumed = command.status is CommandStatus.APPLYING
            if not resumed and not commands.claim(self._db, command.id):
                continue  # cancelled meanwhile
            try:
                answer = await self._carry_out(command, resumed)
            except BrokerUnavailable as exc:
                log.warning("command left to the next pass: venue unavailable", error=str(exc))
                break
            except Exception as exc:  # an operator command never stops the daemon
                log.exception("command failed", command_id=command.id)
                answer = Answer(CommandStatus.FAILED, f"error: {type(exc).__name__}: {exc}")
            commands.finish(
                self._db,
                command.id,
                answer.status,
                answer.message,
                runtime=answer.runtime,
                roll=answer.roll,
            )
            answered.append(command.id)
            log.info(
                "command answered",
                command_id=command.id,
                command=command.describe(),
                status=answer.status.value,
                message=answer.message,
                resumed=resumed,
            )
        return answered

    async def _carry_out(self, command: Command, resumed: bool) -> Answer:
        problem = commands.args_problem(command.verb, command.args)
        if problem is not None:
            return Answer(CommandStatus.REJECTED, problem)
        match command.verb:
            case CommandVerb.PAUSE:
                return Answer(
                    CommandStatus.APPLIED,
                    "paused: no new positions; exits and management continue",
                    {"paused": True},
                )
            case CommandVerb.RESUME:
                return self._resume()
            case CommandVerb.SKIP_ENTRY:
                return Answer(
                    CommandStatus.APPLIED,
                    "the next condor entry window opens nothing",
                    {"skip_next_entry": True},
                )
            case CommandVerb.SET:
                return _set(command.args)
            case CommandVerb.KILL:
                return await self._kill()
            case CommandVerb.RELOAD_CONFIG:
                return self._reload_config()
        if commands.runtime_state(self._db).killed:
            return Answer(CommandStatus.REJECTED, "killed: no orders are sent until `alvh resume`")
        match command.verb:
            case CommandVerb.FLATTEN:
                return await self._flatten(command)
            case CommandVerb.CLOSE:
                return await self._close(command, resumed)
            case CommandVerb.ROLL:
                return await self._roll(command, resumed)
        return Answer(CommandStatus.REJECTED, f"unknown verb {command.verb!r}")

    def _resume(self) -> Answer:
        state = commands.runtime_state(self._db)
        cleared = [name for name, on in (("pause", state.paused), ("kill", state.killed)) if on]
        said = f"cleared {' and '.join(cleared)}" if cleared else "was neither paused nor killed"
        return Answer(CommandStatus.APPLIED, f"resumed: {said}", {"paused": False, "killed": False})

    async def _kill(self) -> Answer:
        broker = self.engine.broker
        working = await broker.open_orders()
        for order in working:
            await broker.cancel_order(order.ref)
        report = await reconcile(
            broker, self.engine.journal, self.engine.executor, self.engine.clock
        )
        refs = ", ".join(o.ref for o in working) or "none were working"
        booked = f"; {report.fills_added} fills booked" if report.fills_added else ""
        return Answer(
            CommandStatus.APPLIED,
            f"killed: cancelled working orders ({refs}){booked}; no orders until `alvh resume`",
            {"killed": True},
        )

    def _reload_config(self) -> Answer:
        if self.config_path is None:
            return Answer(CommandStatus.REJECTED, "the daemon was not started from a config file")
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            return Answer(
                CommandStatus.REJECTED, f"{self.config_path}: the old config stays:\n{exc}"
            )
        old = self.engine.config
        changed = [
            name
            for name in AppConfig.model_fields
            if name != "schema_version"
            and getattr(old, name).model_dump() != getattr(new, name).model_dump()
        ]
        self.engine.config = new
        self.engine.executor.config = new.execution
        later = [name for name in changed if name in RESTART_SECTIONS]
        now = [name for name in changed if name not in RESTART_SECTIONS]
        parts = [f"reloaded {self.config_path}"]
        parts.append(f"in effect now: {', '.join(now)}" if now else "no change in effect now")
        if later:
            parts.append(f"changed but used only at start (restart to apply): {', '.join(later)}")
        return Answer(CommandStatus.APPLIED, "; ".join(parts))

    async def _flatten(self, command: Command) -> Answer:
        engine_name = command.args.get("engine")
        targets = [
            s
            for s in self.engine.journal.open_structures()
            if engine_name is None or s.engine.value == engine_name
        ]
        which = f"{engine_name} structures" if engine_name else "structures"
        if not targets:
            return Answer(
                CommandStatus.APPLIED, f"no open {which} to close; paused", {"paused": True}
            )
        notes: list[str] = []
        closed: list[int] = []
        left: list[int] = []
        for structure in targets:
            done, note = await self._close_fully(structure, command)
            notes.append(note)
            (closed if done else left).append(structure.id)
        status = CommandStatus.APPLIED if not left else CommandStatus.FAILED
        summary = f"closed {_ids(closed) or 'none'}"
        if left:
            summary += f"; still open: {_ids(left)}"
        return Answer(status, f"{summary} ({'; '.join(notes)}); paused", {"paused": True})

    async def _close(self, command: Command, resumed: bool) -> Answer:
        structure_id = int(command.args["structure_id"])
        structure = self._open_structure(structure_id)
        if structure is None:
            if resumed and _closed_by(command.id, self._db, structure_id):
                return Answer(CommandStatus.APPLIED, f"#{structure_id} closed before the restart")
            return Answer(CommandStatus.REJECTED, self._not_open(structure_id))
        done, note = await self._close_fully(structure, command)
        return Answer(CommandStatus.APPLIED if done else CommandStatus.FAILED, note)

    async def _roll(self, command: Command, resumed: bool) -> Answer:
        old_id = int(command.args["structure_id"])
        structure = self._open_structure(old_id)
        close_note = f"#{old_id} closed before the restart"
        if structure is None:
            if not (resumed and _closed_by(command.id, self._db, old_id)):
                return Answer(CommandStatus.REJECTED, self._not_open(old_id))
        else:
            if structure.engine is not Engine.CONDOR:
                return Answer(
                    CommandStatus.REJECTED,
                    f"#{old_id} is a {structure.engine.value} {structure.kind.value}: "
                    "only condors are rolled",
                )
            done, close_note = await self._close_fully(structure, command)
            if not done:
                return Answer(CommandStatus.FAILED, f"{close_note}; no new condor opened")
        new_id = self._opened_for(command.id)
        if new_id is None:
            opened, why = await self._open_condor(command)
            if opened is None:
                return Answer(
                    CommandStatus.FAILED, f"{close_note}; no new condor: {why} (the old one closed)"
                )
            new_id, open_note = opened, why
        else:
            open_note = f"#{new_id} opened before the restart"
        return self._roll_answer(command, old_id, new_id, f"{close_note}; {open_note}")

    def _roll_answer(self, command: Command, old_id: int, new_id: int, note: str) -> Answer:
        close_price = commands.close_price(self._db, old_id) or 0.0
        new = self.engine.journal.structure(new_id)
        open_price = new.open_price if new is not None else 0.0
        net = close_price + open_price
        record = RollRecord(
            old_structure_id=old_id,
            new_structure_id=new_id,
            engine=Engine.CONDOR.value,
            reason=f"operator command #{command.id} (roll {old_id})",
            net_price=net,
            time=self.engine.clock.now(),
        )
        kind = "credit" if net < 0 else "debit"
        return Answer(
            CommandStatus.APPLIED,
            f"rolled #{old_id} into #{new_id} for a net {kind} of {abs(net):.2f} ({note})",
            roll=record,
        )

    async def _open_condor(self, command: Command) -> tuple[int | None, str]:
        now = self.engine.clock.now().astimezone(NY)
        params = self.engine.config.strategy
        state = await self.engine.portfolio(now)
        snapshot = await market_snapshot(
            self.engine.broker,
            state.structures,
            now,
            SnapshotNeeds(params.condor, entry=True),
            self.engine.sessions(now),
        )
        decision = propose_condor(snapshot, state, params.condor, now)
        if not decision.intents:
            return None, "; ".join(s.reason for s in decision.skips) or "nothing proposed"
        intent = decision.intents[0]
        tagged = _tagged(intent, f"roll #{command.args['structure_id']}", command)
        outcome = await self.engine.execute_checked(tagged, state, now)
        if outcome is None:
            return None, "the risk check refused the new condor"
        if outcome.structure_id is None:
            return None, f"the opening order was not filled ({outcome.status.value})"
        return outcome.structure_id, f"opened #{outcome.structure_id} ({outcome.filled} units)"

    async def _close_fully(self, structure: Structure, command: Command) -> tuple[bool, str]:
        """Close the whole structure in at most `CLOSE_WALKS` walks; say whether it is closed,
        and what each walk did."""
        notes: list[str] = []
        for _ in range(CLOSE_WALKS):
            outcome, note = await self._close_one(structure, command)
            notes.append(note)
            if _fully_closed(outcome, structure):
                return True, "; then ".join(notes)
            if outcome is None or outcome.status is OrderStatus.REJECTED:
                break  # refused, no quotes or rejected: another walk now would not do better
            rest = self._open_structure(structure.id)  # a partial close left the rest open
            if rest is None:
                return True, "; then ".join(notes)
            structure = rest
        return False, "; then ".join(notes)

    async def _close_one(
        self, structure: Structure, command: Command
    ) -> tuple[Outcome | None, str]:
        """Send a closing order for a whole structure through the executor; say what happened."""
        now = self.engine.clock.now()
        by_key = await quotes_of(self.engine.broker, (leg.contract for leg in structure.legs))
        intent = close_intent(
            structure, structure.quantity, by_key, f"close {_name(structure)} #{structure.id}"
        )
        if isinstance(intent, str):
            return None, f"#{structure.id} not closed: {intent}"
        state = await self.engine.portfolio(now)
        outcome = await self.engine.execute_checked(
            _tagged(intent, command.describe(), command), state, now
        )
        if outcome is None:
            return None, f"#{structure.id} not closed: refused by the risk check"
        if outcome.filled >= structure.quantity:
            return outcome, (
                f"#{structure.id} closed at {outcome.avg_price:.2f} (intent {outcome.intent_id})"
            )
        return outcome, (
            f"#{structure.id}: {outcome.filled} of {structure.quantity} units closed, "
            f"order {outcome.status.value} (intent {outcome.intent_id})"
        )

    def _open_structure(self, structure_id: int) -> Structure | None:
        return next(
            (s for s in self.engine.journal.open_structures() if s.id == structure_id), None
        )

    def _not_open(self, structure_id: int) -> str:
        ids = _ids(s.id for s in self.engine.journal.open_structures()) or "none"
        return f"structure {structure_id} is not open (open structures: {ids})"

    def _opened_for(self, command_id: int) -> int | None:
        for intent in commands.intents_of(self._db, command_id):
            if intent.kind == IntentKind.OPEN.value:
                opened = commands.structure_opened_by(self._db, intent.id)
                if opened is not None:
                    return opened
        return None


def _set(args: dict[str, Any]) -> Answer:
    name, value = Setting(args["name"]), args["value"]
    if name is Setting.RATIO:
        return Answer(
            CommandStatus.APPLIED,
            f"VIX backspread ratio override set to 1x{value} (read by the VIX layer)",
            {"ratio": int(value)},
        )
    return Answer(
        CommandStatus.APPLIED,
        f"hedge scale set to {float(value):g} x k (read by the VIX layer)",
        {"hedge_scale": float(value)},
    )


def _tagged(intent: Intent, what: str, command: Command) -> Intent:
    """Return the intent with a reason naming the operator command and its tag, at the end."""
    reason = f"{intent.reason}: operator `{what}` {command.tag}"
    return Intent(
        kind=intent.kind,
        engine=intent.engine,
        structure_kind=intent.structure_kind,
        legs=intent.legs,
        quantity=intent.quantity,
        limit_price=intent.limit_price,
        reason=reason,
        structure_id=intent.structure_id,
    )


def _fully_closed(outcome: Outcome | None, structure: Structure) -> bool:
    return (
        outcome is not None
        and outcome.status is OrderStatus.FILLED
        and outcome.filled >= structure.quantity
    )


def _closed_by(command_id: int, db: SqlEngine, structure_id: int) -> bool:
    return any(
        i.kind == IntentKind.CLOSE.value and i.structure_id == structure_id
        for i in commands.intents_of(db, command_id)
    )


def _name(structure: Structure) -> str:
    return "condor" if structure.kind is StructureKind.IRON_CONDOR else structure.kind.value


def _ids(ids: Iterable[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)
