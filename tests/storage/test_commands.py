"""The commands table: written pending, claimed once, answered once; the runtime state."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from broker.structures import Engine, Intent, IntentKind, StructureKind
from storage import commands
from storage.commands import CommandStatus, CommandVerb, RuntimeState
from storage.journal import Journal

NOW = datetime(2018, 1, 8, 15, 0, tzinfo=UTC)


@pytest.fixture
def journal(journal_url: str) -> Iterator[Journal]:
    journal = Journal(journal_url)  # SQLite, then PostgreSQL
    yield journal
    journal.dispose()


def test_a_submitted_command_is_pending_with_its_args_and_requester(journal: Journal) -> None:
    command_id = commands.submit(
        journal.engine, CommandVerb.CLOSE, {"structure_id": 3}, "ann@host pid 7", NOW
    )
    found = commands.command(journal.engine, command_id)
    assert found is not None
    assert (found.verb, found.args, found.status) == (
        CommandVerb.CLOSE,
        {"structure_id": 3},
        CommandStatus.PENDING,
    )
    assert (found.created_at, found.requested_by, found.applied_at) == (NOW, "ann@host pid 7", None)
    assert found.describe() == "close 3" and found.tag == f"(command #{command_id})"


@pytest.mark.parametrize(
    ("verb", "args", "says"),
    [
        (CommandVerb.SET, {"name": "ratio", "value": 0}, "ratio must be a whole number from 1"),
        (CommandVerb.SET, {"name": "ratio", "value": 5}, "from 1 to 4, got 5"),
        (CommandVerb.SET, {"name": "ratio", "value": 2.5}, "whole number"),
        (CommandVerb.SET, {"name": "ratio", "value": True}, "needs a number"),
        (CommandVerb.SET, {"name": "hedge-scale", "value": 0.2}, "from 0.25 to 4.0"),
        (CommandVerb.SET, {"name": "hedge-scale", "value": 4.01}, "from 0.25 to 4.0"),
        (CommandVerb.SET, {"name": "delta", "value": 1}, "settings are ratio, hedge-scale"),
        (CommandVerb.CLOSE, {"structure_id": "3"}, "needs a structure id"),
        (CommandVerb.ROLL, {}, "needs a structure id"),
        (CommandVerb.FLATTEN, {"engine": "spx"}, "condor or vix"),
    ],
)
def test_invalid_arguments_are_refused_before_anything_is_written(
    journal: Journal, verb: CommandVerb, args: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        commands.submit(journal.engine, verb, args)
    assert commands.commands(journal.engine) == []


@pytest.mark.parametrize(
    ("name", "value"), [("ratio", 1), ("ratio", 4), ("hedge-scale", 0.25), ("hedge-scale", 4)]
)
def test_the_range_limits_themselves_are_valid(name: str, value: float) -> None:
    assert commands.args_problem(CommandVerb.SET, {"name": name, "value": value}) is None


def test_a_command_is_claimed_once_and_a_claimed_one_cannot_be_cancelled(
    journal: Journal,
) -> None:
    command_id = commands.submit(journal.engine, CommandVerb.PAUSE)
    assert commands.claim(journal.engine, command_id)
    assert not commands.claim(journal.engine, command_id)
    assert not commands.cancel(journal.engine, command_id)
    found = commands.command(journal.engine, command_id)
    assert found is not None and found.status is CommandStatus.APPLYING


def test_a_cancelled_command_is_never_claimed(journal: Journal) -> None:
    command_id = commands.submit(journal.engine, CommandVerb.KILL)
    assert commands.cancel(journal.engine, command_id, NOW)
    assert not commands.claim(journal.engine, command_id)
    found = commands.command(journal.engine, command_id)
    assert found is not None and found.status is CommandStatus.CANCELLED
    assert found.applied_at == NOW and commands.unfinished(journal.engine) == []


def test_finish_writes_the_answer_and_the_state_together_once(journal: Journal) -> None:
    command_id = commands.submit(journal.engine, CommandVerb.PAUSE)
    assert not commands.finish(
        journal.engine, command_id, CommandStatus.APPLIED, "x", runtime={"paused": True}
    )  # still pending: not claimed, nothing written
    assert commands.runtime_state(journal.engine) == RuntimeState()
    commands.claim(journal.engine, command_id)
    assert commands.finish(
        journal.engine, command_id, CommandStatus.APPLIED, "paused", runtime={"paused": True}
    )
    assert not commands.finish(
        journal.engine, command_id, CommandStatus.FAILED, "again", runtime={"killed": True}
    )
    assert commands.runtime_state(journal.engine) == RuntimeState(paused=True)
    found = commands.command(journal.engine, command_id)
    assert found is not None and (found.status, found.message) == (CommandStatus.APPLIED, "paused")
    assert found.applied_at is not None


def test_finish_refuses_a_status_that_is_not_an_answer(journal: Journal) -> None:
    with pytest.raises(ValueError, match="applied, rejected or failed"):
        commands.finish(journal.engine, 1, CommandStatus.PENDING, "")


def test_an_unknown_runtime_key_rolls_the_whole_answer_back(journal: Journal) -> None:
    command_id = commands.submit(journal.engine, CommandVerb.PAUSE)
    commands.claim(journal.engine, command_id)
    with pytest.raises(KeyError, match="nonsense"):
        commands.finish(
            journal.engine,
            command_id,
            CommandStatus.APPLIED,
            "",
            runtime={"paused": True, "nonsense": 1},
        )
    found = commands.command(journal.engine, command_id)
    assert found is not None and found.status is CommandStatus.APPLYING
    assert commands.runtime_state(journal.engine) == RuntimeState()


def test_runtime_state_survives_reopening_the_journal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.sqlite'}"
    first = Journal(url)
    commands.set_runtime(first.engine, {"ratio": 3, "hedge_scale": 1.5, "killed": True})
    commands.set_runtime(first.engine, {"ratio": 2})
    first.dispose()
    again = Journal(url)
    assert commands.runtime_state(again.engine) == RuntimeState(
        killed=True, ratio=2, hedge_scale=1.5
    )
    again.dispose()


def test_unfinished_lists_interrupted_then_pending_oldest_first(journal: Journal) -> None:
    ids = [commands.submit(journal.engine, CommandVerb.PAUSE) for _ in range(4)]
    commands.claim(journal.engine, ids[1])
    commands.cancel(journal.engine, ids[2])
    assert [c.id for c in commands.unfinished(journal.engine)] == [ids[0], ids[1], ids[3]]
    assert [c.id for c in commands.commands(journal.engine, limit=2)] == [ids[3], ids[2]]


def record(journal: Journal, reason: str, kind: IntentKind = IntentKind.CLOSE) -> int:
    intent = Intent(kind, Engine.CONDOR, StructureKind.IRON_CONDOR, (), 1, 0.0, reason, 5)
    return journal.record_intent(intent, NOW)


def test_the_intents_of_a_command_are_found_by_their_tag_only(journal: Journal) -> None:
    mine = record(journal, "close condor #5: operator `close 5` (command #1)")
    record(journal, "close condor #5: operator `close 5` (command #11)")
    record(journal, "close condor #5: take profit (command #1) was not the end")
    [found] = commands.intents_of(journal.engine, 1)
    assert (found.id, found.kind, found.structure_id) == (mine, "close", 5)


def test_commands_written_by_other_threads_while_the_journal_writes_are_all_kept(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'j.sqlite'}"
    daemon, cli = Journal(url), Journal(url)
    errors: list[BaseException] = []

    def write_commands() -> None:
        try:
            for _ in range(100):
                commands.submit(cli.engine, CommandVerb.SKIP_ENTRY, {}, "cli")
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=write_commands)
    writer.start()
    for n in range(200):  # the daemon's side: intents and status changes
        intent_id = record(journal=daemon, reason=f"busy {n}")
        daemon.set_intent_status(intent_id, "filled", "")
    writer.join()
    assert errors == []
    assert len(commands.commands(daemon.engine)) == 100
    daemon.dispose()
    cli.dispose()
