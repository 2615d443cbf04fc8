"""The `alvh` command line: run the daemon, replay history, show status, check a config,
upgrade the journal's schema."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli_group import VerbGroup
from bot.commands_cli import register_commands
from bot.config import AppConfig, load_config
from bot.events_cli import events_app
from bot.logs import setup_logging
from broker.errors import BrokerUnavailable, ConfigError, LiveTradingRefused, MarketDataEnded
from broker.sim.user_data import DataFileError
from broker.sim.venue_store import VenueFileError

DEFAULT_CONFIG = Path("config/default.toml")

app = typer.Typer(
    cls=VerbGroup,
    help="ALVH: paper-trade SPX iron condors with an adaptive VIX hedge layer.",
    no_args_is_help=True,
    add_completion=False,
)
config_app = typer.Typer(cls=VerbGroup, help="Work with configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")
db_app = typer.Typer(
    cls=VerbGroup, help="The journal's database: schema status and upgrade.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
console = Console()
errors = Console(stderr=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file (TOML).", show_default=True)
]


def _load(path: Path) -> AppConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        errors.print(f"[red]invalid configuration[/red]\n{exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc


@contextmanager
def _journal_errors(config: Path) -> Iterator[None]:
    """Turn a journal that cannot be used into a clear message and exit code 2."""
    from storage.daemon_lock import DaemonAlreadyRunning
    from storage.schema import JournalUnavailable, SchemaNotCurrent

    try:
        yield
    except SchemaNotCurrent as exc:
        errors.print(
            f"[red]cannot use the journal: {escape(exc.status.describe())}[/red]", soft_wrap=True
        )
        errors.print(_next_step(exc.status.upgradable, config), soft_wrap=True, highlight=False)
        raise typer.Exit(2) from exc
    except (JournalUnavailable, DaemonAlreadyRunning) as exc:
        errors.print(f"[red]{escape(str(exc))}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc


def _next_step(upgradable: bool, config: Path) -> str:
    if upgradable:
        return f"fix: alvh db upgrade --config {shlex.quote(str(config))}"
    return f"details: alvh db status --config {shlex.quote(str(config))}"


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not a date (expected YYYY-MM-DD)", param_hint=option
        ) from exc


@app.command()
def run(
    config: ConfigOption = DEFAULT_CONFIG,
    until: Annotated[
        str | None, typer.Option(help="Stop after this simulated day (YYYY-MM-DD).")
    ] = None,
    allow_live: Annotated[
        bool,
        typer.Option("--allow-live", help="Second opt-in to live trading (also needs the config)."),
    ] = False,
    lock_stale_after: Annotated[
        float,
        typer.Option(
            min=60.0,  # at least two 30 s heartbeats, so that a live daemon is never taken over
            help="Seconds without a heartbeat after which another daemon's lock is taken over.",
        ),
    ] = 120.0,
) -> None:
    """Run the trading daemon (Ctrl-C stops it cleanly after the current job)."""
    from bot.daemon import run_daemon

    cfg = _load(config)
    stop_day = _parse_day(until, "--until") if until else None
    setup_logging(cfg.logging.level, cfg.logging.json_path, keep_days=cfg.logging.keep_days)
    staleness = timedelta(seconds=lock_stale_after)
    try:
        with _journal_errors(config):
            code = asyncio.run(
                run_daemon(cfg, stop_day, allow_live, lock_staleness=staleness, config_path=config)
            )
    except LiveTradingRefused as exc:
        errors.print(f"[red]{escape(str(exc))}[/red]", soft_wrap=True)
        raise typer.Exit(3) from exc
    except MarketDataEnded as exc:
        errors.print(f"[red]cannot start: {escape(str(exc))}[/red] (see sim.start)", soft_wrap=True)
        raise typer.Exit(2) from exc
    except (DataFileError, VenueFileError, BrokerUnavailable, ConfigError) as exc:
        errors.print(f"[red]cannot start: {escape(str(exc))}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc
    raise typer.Exit(code)


@app.command()
def replay(
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day (YYYY-MM-DD).")],
    config: ConfigOption = DEFAULT_CONFIG,
    db: Annotated[
        Path | None,
        typer.Option(
            help="Journal of this replay (recreated); default var/replay/START_END.sqlite."
        ),
    ] = None,
    daily_logs: Annotated[
        bool,
        typer.Option(
            "--daily-logs", help="Write each day's fill and roll log under the reports dir."
        ),
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(help="Write the replay report (summary.md and PNG charts) into this folder."),
    ] = None,
) -> None:
    """Replay history through the same strategy and engine, as fast as it goes."""
    from bot.replay import replay as run_replay

    cfg = _load(config)
    first, last = _parse_day(start, "--start"), _parse_day(end, "--end")
    if last < first:
        raise typer.BadParameter("--end is before --start", param_hint="--end")
    path = db or Path("var/replay") / f"{first}_{last}.sqlite"
    setup_logging(cfg.logging.level, str(path.with_suffix(".jsonl")), console=False)
    columns = (
        TextColumn("replay"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        from broker.calendar import default_calendar

        total = len(default_calendar().trading_days(first, last))
        task = progress.add_task("", total=total)

        def on_day(day: date) -> None:
            progress.update(task, advance=1, description=day.isoformat())

        try:
            summary = asyncio.run(
                run_replay(cfg, first, last, path, on_day, daily_logs, report_dir=report)
            )
        except (MarketDataEnded, DataFileError) as exc:
            progress.stop()
            errors.print(f"[red]cannot replay: {escape(str(exc))}[/red]", soft_wrap=True)
            raise typer.Exit(2) from exc
    table = Table(title=f"Replay {summary.start} .. {summary.end}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in (
        ("trading days", f"{summary.days}"),
        ("engine cycles", f"{summary.cycles}"),
        ("condors opened", f"{summary.condors_opened}"),
        ("condors closed", f"{summary.condors_closed}"),
        ("realized P&L", f"{summary.realized_pnl:+,.2f}"),
        ("total P&L (net liquidation)", f"{summary.total_pnl:+,.2f}"),
        ("start / end equity", f"{summary.start_equity:,.0f} / {summary.end_equity:,.0f}"),
        ("max drawdown", f"{summary.max_drawdown:,.0f} ({summary.max_drawdown_pct:.2%})"),
        ("fills", f"{summary.fills}"),
        ("journal", str(path)),
        ("daily logs", f"{Path(cfg.reports.dir) / 'YYYY-MM-DD'}/" if daily_logs else "off"),
        ("report", f"{report / 'summary.md'}" if report else "off (--report DIR)"),
        ("wall time", f"{summary.wall_seconds:.1f} s ({summary.cycles_per_second:,.0f} cycles/s)"),
    ):
        table.add_row(label, value)
    console.print(table)
    console.print(f"stopped: {summary.why_stopped}")


@app.command()
def report(
    day: Annotated[
        str, typer.Option("--date", help="Day to rebuild (YYYY-MM-DD, America/New_York).")
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    out: Annotated[
        Path | None, typer.Option(help="Reports folder; default: reports.dir of the config.")
    ] = None,
) -> None:
    """Rebuild a day's fill and roll log from the journal: fills, rolls, summary, equity chart."""
    from bot.daily_report import write_day_log
    from storage.journal import Journal
    from storage.schema import check_url

    when = _parse_day(day, "--date")
    cfg = _load(config)
    with _journal_errors(config):
        check_url(cfg.database.url)
        journal = Journal(cfg.database.url)
    try:
        written = write_day_log(journal, when, out or Path(cfg.reports.dir))
    except OSError as exc:
        errors.print(f"[red]cannot write the report: {escape(str(exc))}[/red]", soft_wrap=True)
        raise typer.Exit(1) from exc
    finally:
        journal.dispose()
    balances = "" if written.has_equity else "; no equity row journaled for that day"
    console.print(
        f"{written.folder}: {written.fills} fills, {written.intents} intents, "
        f"{written.rolls} rolls{balances}",
        soft_wrap=True,
        highlight=False,
    )


@app.command()
def status(
    config: ConfigOption = DEFAULT_CONFIG,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the same status as JSON, for scripts.")
    ] = False,
) -> None:
    """Show the daemon, trading state, structures, orders, commands and account from the journal."""
    from bot.status_view import gather_status, render_status, status_json
    from storage.journal import Journal
    from storage.schema import check_url

    cfg = _load(config)
    with _journal_errors(config):
        check_url(cfg.database.url)
        journal = Journal(cfg.database.url)
    try:
        report = gather_status(
            journal,
            broker=cfg.account.broker,
            journal_label=_shown(cfg.database.url),
            macro_events_csv=cfg.calendar.events_path,
            hedge_params=cfg.strategy.hedge,
        )
    finally:
        journal.dispose()
    if as_json:
        typer.echo(status_json(report))
    else:
        render_status(report, console)


@db_app.command("status")
def db_status(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Show the journal's schema revision against this version's head; exit 1 if it needs work."""
    from storage.schema import check_schema

    cfg = _load(config)
    with _journal_errors(config):
        status = check_schema(cfg.database.url)
    table = Table(title="Journal schema", show_header=False)
    table.add_column("key")
    table.add_column("value")
    table.add_row("database", _shown(cfg.database.url))
    table.add_row("current revision", ", ".join(status.current) or "none")
    table.add_row("head revision", status.head)
    table.add_row("state", status.state.value)
    console.print(table)
    console.print(escape(status.describe()), soft_wrap=True, highlight=False)
    if not status.opens:
        console.print(_next_step(status.upgradable, config), soft_wrap=True, highlight=False)
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Create or upgrade the journal's schema to head (stamping a pre-migration journal first)."""
    from storage.schema import BASELINE, SchemaState, upgrade

    cfg = _load(config)
    with _journal_errors(config):
        result = upgrade(cfg.database.url)
    before, head = result.before, result.revision
    applied = ", ".join(before.pending)
    match before.state:
        case SchemaState.UP_TO_DATE:
            message = f"already up to date at revision {head}"
        case SchemaState.EMPTY:
            message = f"created the schema at revision {head}"
        case SchemaState.BEHIND:
            message = (
                f"upgraded from revision {', '.join(before.current)} to {head} (applied {applied})"
            )
        case _:
            message = (
                f"stamped the pre-migration journal at revision {BASELINE} "
                f"(its tables match it), then upgraded it to {head}"
            )
    console.print(f"{_shown(cfg.database.url)}: {message}", soft_wrap=True, highlight=False)


def _shown(url: str) -> str:
    """Return the URL with its password hidden."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="Config file to check.")]) -> None:
    """Print `ok`, or every problem with its file, key, value found and what was expected."""
    _load(path)
    console.print("ok")


register_commands(app)  # the override verbs and `alvh commands` (bot/commands_cli.py)
app.add_typer(events_app, name="events")  # `alvh events list|add` (bot/events_cli.py)
