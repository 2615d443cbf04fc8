"""`alvh events`: list the macro calendar (CPI, PPI, FOMC) and add events to it.

The calendar is the CSV file named by the config's `calendar.events_csv` (columns
date,event,time_et,status,source; relative paths are taken from the working directory, like the
other paths of the config). It is read with `strategies.signals.macro_calendar`, so the bot and
these commands agree on what a valid file is.

`list` shows each event with the trading days on which it blocks a new condor (the trading day
before and the day itself, `strategies.condor_blackout`), on the CBOE index options calendar.

`add` validates its arguments (the date, the kind among CPI/PPI/FOMC, the time) and refuses a
second event of the same kind on the same day. It keeps every other row's cells and the header
as they are, puts the rows in date order (a stable sort: the new row follows the rows already
on its day), and replaces the file
atomically: a temporary file in the same folder is written, flushed to disk and renamed over the
original, so a crash leaves either the old file or the new one. A file that does not parse is
never rewritten.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli_group import VerbGroup
from strategies.condor_blackout import blacked_out_days
from strategies.signals.macro_calendar import COLUMNS, EVENT_KINDS, MacroEvent, parse_macro_events

console = Console()
errors = Console(stderr=True)
events_app = typer.Typer(
    cls=VerbGroup,
    help="The macro calendar (CPI, PPI, FOMC): list it, add an event.",
    no_args_is_help=True,
)

DEFAULT_CONFIG = Path("config/default.toml")
DEFAULT_DAYS = 90
DEFAULT_TIMES = {"CPI": "08:30", "PPI": "08:30", "FOMC": "14:00"}  # ET, as released
KIND_CHOICES = ", ".join(sorted(EVENT_KINDS))
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file (TOML).", show_default=True)
]


@events_app.command("list")
def list_events(
    start: Annotated[
        str | None,
        typer.Option("--from", help="First day shown (YYYY-MM-DD); default: today in New York."),
    ] = None,
    days: Annotated[
        int, typer.Option("--days", min=1, help="How many calendar days from --from.")
    ] = DEFAULT_DAYS,
    show_all: Annotated[
        bool, typer.Option("--all", help="Every event in the file, ignoring --from and --days.")
    ] = False,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Show the events and the trading days on which each blocks a new condor."""
    path = _events_path(config)
    events = _read_events(path)
    first = _parse_date(start, "--from") if start else _today()
    shown = events if show_all else [e for e in events if first <= e.day < first + timedelta(days)]
    shown = sorted(shown, key=lambda e: (e.day, e.time_et, e.kind))
    window = "all events" if show_all else f"{first} to {first + timedelta(days - 1)}"
    table = Table(title=f"Macro events in {escape(str(path))} ({window})")
    for column in ("date", "day", "kind", "time (ET)", "status", "no new condor on"):
        table.add_column(column)
    blackout = _blackout_texts(shown)
    for event in shown:
        table.add_row(
            event.day.isoformat(),
            f"{event.day:%a}",
            event.kind,
            event.time_et,
            escape(event.status),
            blackout[event],
        )
    console.print(table)
    console.print(
        f"{len(shown)} of {len(events)} events. A new condor is not opened on the trading day "
        "before or the day of an event (strategy.condor.event_blackout).",
        soft_wrap=True,
        highlight=False,
    )


@events_app.command("add")
def add_event(
    day: Annotated[str, typer.Argument(metavar="DATE", help="Day of the release (YYYY-MM-DD).")],
    kind: Annotated[str, typer.Argument(metavar="KIND", help=f"One of {KIND_CHOICES}.")],
    time_et: Annotated[
        str | None,
        typer.Option("--time", help="Release time in ET (HH:MM); default 08:30, FOMC 14:00."),
    ] = None,
    status: Annotated[
        str, typer.Option("--status", help="How sure the date is (kept as written).")
    ] = "user-added",
    source: Annotated[
        str, typer.Option("--source", help="Where the date comes from.")
    ] = "alvh events add",
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Add one event to the calendar file (validated; the file is rewritten atomically)."""
    when = _parse_date(day, "DATE")
    name = kind.strip().upper()
    if name not in EVENT_KINDS:
        raise typer.BadParameter(
            f"{kind!r} is not an event kind (choices: {KIND_CHOICES})", param_hint="KIND"
        )
    at = DEFAULT_TIMES[name] if time_et is None else time_et.strip()
    if not _TIME.fullmatch(at):
        raise typer.BadParameter(f"{at!r} is not a time (expected HH:MM)", param_hint="--time")
    for label, text in (("--status", status), ("--source", source)):
        if "\n" in text or "\r" in text:
            raise typer.BadParameter("must be one line", param_hint=label)
    path = _events_path(config)
    text = _read_text(path)
    events = _parse(path, text)
    if any(e.day == when and e.kind == name for e in events):
        _refuse(f"{path} already has {name} on {when.isoformat()}: nothing written")
    row = {"date": when.isoformat(), "event": name, "time_et": at}
    row |= {"status": status.strip(), "source": source.strip()}
    updated = with_row(text, row)
    _parse(path, updated)  # the new file must read back; raises before anything is written
    write_atomically(path, updated)
    console.print(
        f"added {name} on {when:%a %Y-%m-%d} at {at} ET to {path} ({len(events) + 1} events)",
        soft_wrap=True,
        highlight=False,
    )


def with_row(text: str, row: dict[str, str]) -> str:
    """Return the CSV text with `row` added and the rows in date order (a stable sort: the new row
    comes after the rows already on its day).

    The header and every other row's cells are kept; blank lines are dropped.
    """
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    lines = [cells for cells in reader if any(cell.strip() for cell in cells)]
    header, rows = lines[0], lines[1:]
    names = [name.strip() for name in header]
    rows.append([row.get(name, "") for name in names])
    at_date = names.index("date")
    rows.sort(key=lambda cells: cells[at_date].strip())  # stable: a day's rows keep their order
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return bom + out.getvalue()


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text`: write a temporary file beside it, fsync, rename over it."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _events_path(config: Path) -> Path:
    from bot.cli import _load

    return _load(config).calendar.events_path


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        _refuse(f"cannot read the events file {path}: {exc.strerror or exc}")


def _parse(path: Path, text: str) -> list[MacroEvent]:
    try:
        return parse_macro_events(text)
    except ValueError as exc:
        _refuse(f"{path}: {exc} (expected columns {', '.join(COLUMNS)})")


def _read_events(path: Path) -> list[MacroEvent]:
    return _parse(path, _read_text(path))


def _blackout_texts(events: list[MacroEvent]) -> dict[MacroEvent, str]:
    """Return, per event, the trading days it blacks out for new condors."""
    if not events:
        return {}
    from broker.calendar import default_calendar

    calendar = default_calendar()
    first = max(min(e.day for e in events) - timedelta(days=10), calendar.start)
    last = min(max(e.day for e in events), calendar.end)
    trading = calendar.trading_days(first, last) if first <= last else []
    texts = {}
    for event in events:
        if not calendar.start <= event.day <= calendar.end:
            texts[event] = "outside the trading calendar"
            continue
        days = blacked_out_days(event, trading)
        texts[event] = ", ".join(f"{d:%a %m-%d}" for d in days)
    return texts


def _parse_date(value: str, name: str) -> date:
    if _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise typer.BadParameter(f"{value!r} is not a date (expected YYYY-MM-DD)", param_hint=name)


def _today() -> date:
    from broker.calendar import NY

    return datetime.now(NY).date()


def _refuse(problem: str) -> NoReturn:
    errors.print(f"[red]refused:[/red] {escape(problem)}", soft_wrap=True, highlight=False)
    raise typer.Exit(2)
