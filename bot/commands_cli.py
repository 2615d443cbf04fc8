"""The override verbs of the `alvh` command line: write a command, optionally wait for the answer.

Every verb validates what it can before writing (choices, ranges, that a structure is open in
the journal) and exits 2 with the valid choices; then it writes one `pending` row to the
`commands` table (storage/commands.py) and returns. The daemon applies it between cycles
(bot/overrides.py). `--wait` polls the row until the daemon has answered it and prints the
answer: exit 0 when applied, 1 when rejected, failed or still pending at the timeout. A command
given while no daemon runs is applied once when the daemon starts.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli_group import VerbGroup
from broker.structures import Engine, StructureKind
from storage.commands import (
    HEDGE_SCALE_RANGE,
    RATIO_RANGE,
    Command,
    CommandStatus,
    CommandVerb,
    Setting,
    args_problem,
)

if TYPE_CHECKING:  # storage.journal is imported when a command runs, not for --help
    from storage.journal import Journal

console = Console()
errors = Console(stderr=True)
commands_app = typer.Typer(
    cls=VerbGroup,
    help="The override commands: list them, cancel a pending one.",
    no_args_is_help=True,
)

DEFAULT_CONFIG = Path("config/default.toml")
WAIT_POLL_SECONDS = 0.2
LIST_LIMIT = 20

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file (TOML).", show_default=True)
]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="Block until the daemon has answered; print the answer.")
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", min=0.0, help="Seconds --wait waits before giving up.")
]
Check = Callable[["Journal"], str | None]
# An order verb's answer comes after its walks: 4 steps of 30 s by default, a second walk when
# the first is not filled, per structure (flatten closes them one by one), in a daemon on the
# real clock. 60 s gave up before the first walk ended.
ORDER_WAIT = 600.0


def register_commands(app: typer.Typer) -> None:
    """Add the override verbs and the `commands` group to the `alvh` app."""
    app.command("pause")(pause)
    app.command("resume")(resume)
    app.command("flatten")(flatten)
    app.command("close")(close)
    app.command("roll")(roll)
    app.command("set")(set_value)
    app.command("skip-entry")(skip_entry)
    app.command("kill")(kill)
    app.command("reload-config")(reload_config)
    app.add_typer(commands_app, name="commands")


def pause(
    config: ConfigOption = DEFAULT_CONFIG, wait: WaitOption = False, timeout: TimeoutOption = 60.0
) -> None:
    """Open no new positions; exits and management continue."""
    _send(config, CommandVerb.PAUSE, {}, wait, timeout)


def resume(
    config: ConfigOption = DEFAULT_CONFIG, wait: WaitOption = False, timeout: TimeoutOption = 60.0
) -> None:
    """Clear pause and kill: trade normally again."""
    _send(config, CommandVerb.RESUME, {}, wait, timeout)


def flatten(
    engine: Annotated[
        Engine | None, typer.Option("--engine", help="Close only this engine's structures.")
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    wait: WaitOption = False,
    timeout: TimeoutOption = ORDER_WAIT,
) -> None:
    """Close every open structure (of one engine) now, then pause."""
    args = {} if engine is None else {"engine": engine.value}
    _send(config, CommandVerb.FLATTEN, args, wait, timeout)


def close(
    structure: Annotated[int, typer.Argument(help="Id of an open structure (alvh status).")],
    config: ConfigOption = DEFAULT_CONFIG,
    wait: WaitOption = False,
    timeout: TimeoutOption = ORDER_WAIT,
) -> None:
    """Close one open structure now, walking a limit price like any order."""
    _send(
        config,
        CommandVerb.CLOSE,
        {"structure_id": structure},
        wait,
        timeout,
        lambda journal: _open_problem(journal, structure, condor_only=False),
    )


def roll(
    structure: Annotated[int, typer.Argument(help="Id of an open condor (alvh status).")],
    config: ConfigOption = DEFAULT_CONFIG,
    wait: WaitOption = False,
    timeout: TimeoutOption = ORDER_WAIT,
) -> None:
    """Close a condor and open a new one by the entry rules now; the two are linked as a roll."""
    _send(
        config,
        CommandVerb.ROLL,
        {"structure_id": structure},
        wait,
        timeout,
        lambda journal: _open_problem(journal, structure, condor_only=True),
    )


def set_value(
    name: Annotated[Setting, typer.Argument(help="What to set.", case_sensitive=False)],
    value: Annotated[
        str,
        typer.Argument(
            help=f"ratio: {RATIO_RANGE[0]}..{RATIO_RANGE[1]} (VIX backspread 1xN); hedge-scale: "
            f"{HEDGE_SCALE_RANGE[0]}..{HEDGE_SCALE_RANGE[1]} (multiplies k)."
        ),
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    wait: WaitOption = False,
    timeout: TimeoutOption = 60.0,
) -> None:
    """Override the VIX backspread ratio or the hedge scale."""
    parsed = _number(value, whole=name is Setting.RATIO)
    args = {"name": name.value, "value": parsed}
    if parsed is None or (problem := args_problem(CommandVerb.SET, args)) is not None:
        lo, hi = RATIO_RANGE if name is Setting.RATIO else HEDGE_SCALE_RANGE
        kind = "a whole number" if name is Setting.RATIO else "a number"
        problem = f"{name.value} must be {kind} from {lo} to {hi}, got {value!r}"
        _refuse(problem)
    _send(config, CommandVerb.SET, args, wait, timeout)


def skip_entry(
    config: ConfigOption = DEFAULT_CONFIG, wait: WaitOption = False, timeout: TimeoutOption = 60.0
) -> None:
    """Open nothing in the next condor entry window."""
    _send(config, CommandVerb.SKIP_ENTRY, {}, wait, timeout)


def kill(
    config: ConfigOption = DEFAULT_CONFIG, wait: WaitOption = False, timeout: TimeoutOption = 60.0
) -> None:
    """Cancel every working order now and send none until `alvh resume`."""
    _send(config, CommandVerb.KILL, {}, wait, timeout)


def reload_config(
    config: ConfigOption = DEFAULT_CONFIG, wait: WaitOption = False, timeout: TimeoutOption = 60.0
) -> None:
    """Make the daemon re-read the config file it was started with (a bad file is rejected)."""
    _send(config, CommandVerb.RELOAD_CONFIG, {}, wait, timeout)


@commands_app.command("list")
def list_commands(
    config: ConfigOption = DEFAULT_CONFIG,
    show_all: Annotated[
        bool, typer.Option("--all", help=f"Every command, not only the last {LIST_LIMIT}.")
    ] = False,
) -> None:
    """Show the commands, newest first: what was asked, by whom, and the daemon's answer."""
    from storage import commands

    with _journal(config) as journal:
        rows = commands.commands(journal.engine, None if show_all else LIST_LIMIT)
    table = Table(title="Override commands")
    for column in ("id", "created", "verb", "args", "status", "message", "applied"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.id),
            _local(row.created_at),
            row.verb.value,
            _args(row),
            _styled(row.status),
            escape(row.message),
            _local(row.applied_at),
        )
    console.print(table)
    if not rows:
        console.print("no commands yet")


@commands_app.command("cancel")
def cancel_command(
    command_id: Annotated[int, typer.Argument(metavar="ID", help="Id of a pending command.")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Cancel a command the daemon has not picked up yet."""
    from storage import commands

    with _journal(config) as journal:
        found = commands.command(journal.engine, command_id)
        if found is None:
            _refuse(f"there is no command #{command_id}")
        if not commands.cancel(journal.engine, command_id):
            now = commands.command(journal.engine, command_id)
            status = now.status.value if now else "gone"
            errors.print(
                f"command #{command_id} is {status}, not pending: only pending commands "
                "can be cancelled",
                soft_wrap=True,
            )
            raise typer.Exit(1)
    console.print(f"command #{command_id} ({found.describe()}) cancelled", highlight=False)


def _send(
    config: Path,
    verb: CommandVerb,
    args: dict[str, Any],
    wait: bool,
    timeout: float,
    check: Check | None = None,
) -> None:
    from storage import commands, daemon_lock

    with _journal(config) as journal:
        if check is not None and (problem := check(journal)) is not None:
            _refuse(problem)
        command_id = commands.submit(journal.engine, verb, args, _requested_by())
        written = commands.command(journal.engine, command_id)
        assert written is not None
        running = daemon_lock.current_holder(journal.engine) is not None
        where = (
            "the daemon applies it between cycles"
            if running
            else "no daemon runs now: it is applied when the daemon starts"
        )
        console.print(
            f"command #{command_id} ({written.describe()}) written: {where}", highlight=False
        )
        if wait:
            _wait_for(journal, command_id, timeout)


def _wait_for(journal: Journal, command_id: int, timeout: float) -> None:
    from storage import commands

    deadline = time.monotonic() + timeout
    while True:
        found = commands.command(journal.engine, command_id)
        if found is not None and found.status.is_final:
            console.print(
                f"command #{command_id} {_styled(found.status)}: {escape(found.message)}",
                soft_wrap=True,
                highlight=False,
            )
            raise typer.Exit(0 if found.status is CommandStatus.APPLIED else 1)
        if time.monotonic() >= deadline:
            status = found.status.value if found else "missing"
            errors.print(
                f"command #{command_id} is still {status} after {timeout:g} s "
                "(the daemon answers it when it runs; alvh commands list)",
                soft_wrap=True,
            )
            raise typer.Exit(1)
        time.sleep(WAIT_POLL_SECONDS)


@contextmanager
def _journal(config: Path) -> Iterator[Journal]:
    from bot.cli import _journal_errors, _load
    from storage.journal import Journal
    from storage.schema import check_url

    cfg = _load(config)
    with _journal_errors(config):
        check_url(cfg.database.url)
        journal = Journal(cfg.database.url)
    try:
        yield journal
    finally:
        journal.dispose()


def _open_problem(journal: Journal, structure_id: int, condor_only: bool) -> str | None:
    """Return why `structure_id` cannot be closed or rolled, listing the valid ids."""
    held = journal.open_structures()
    valid = [s for s in held if not condor_only or s.kind is StructureKind.IRON_CONDOR]
    what = "open condors" if condor_only else "open structures"
    ids = ", ".join(str(s.id) for s in valid) or "none"
    if any(s.id == structure_id for s in valid):
        return None
    if any(s.id == structure_id for s in held):
        return f"structure {structure_id} is not a condor: only condors are rolled ({what}: {ids})"
    return f"structure {structure_id} is not open ({what}: {ids})"


def _number(text: str, whole: bool) -> int | float | None:
    try:
        return int(text) if whole else float(text)
    except ValueError:
        return None


def _refuse(problem: str) -> NoReturn:
    errors.print(f"[red]refused:[/red] {escape(problem)}", soft_wrap=True, highlight=False)
    raise typer.Exit(2)


def _requested_by() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (a container)
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


def _local(when: datetime | None) -> str:
    return "" if when is None else f"{when.astimezone():%Y-%m-%d %H:%M:%S}"


def _args(command: Command) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(command.args.items()))


def _styled(status: CommandStatus) -> str:
    colour = {
        CommandStatus.APPLIED: "green",
        CommandStatus.REJECTED: "red",
        CommandStatus.FAILED: "red",
        CommandStatus.CANCELLED: "yellow",
    }.get(status, "cyan")
    return f"[{colour}]{status.value}[/{colour}]"
