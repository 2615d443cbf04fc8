"""The `alvh` command line: run the daemon, replay history, show status, check a config."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.config import AppConfig, load_config
from bot.logs import setup_logging
from broker.errors import ConfigError, LiveTradingRefused, MarketDataEnded

DEFAULT_CONFIG = Path("config/default.toml")

app = typer.Typer(
    help="ALVH: paper-trade SPX iron condors with an adaptive VIX hedge layer.",
    no_args_is_help=True,
    add_completion=False,
)
config_app = typer.Typer(help="Work with configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")
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
) -> None:
    """Run the trading daemon (Ctrl-C stops it cleanly after the current job)."""
    from bot.daemon import run_daemon

    cfg = _load(config)
    stop_day = _parse_day(until, "--until") if until else None
    setup_logging(cfg.logging.level, cfg.logging.json_path)
    try:
        code = asyncio.run(run_daemon(cfg, stop_day, allow_live))
    except LiveTradingRefused as exc:
        errors.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(3) from exc
    except MarketDataEnded as exc:
        errors.print(f"[red]cannot start: {exc}[/red] (see sim.start)", soft_wrap=True)
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
            summary = asyncio.run(run_replay(cfg, first, last, path, on_day))
        except MarketDataEnded as exc:
            progress.stop()
            errors.print(f"[red]cannot replay: {exc}[/red]", soft_wrap=True)
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
    ):
        table.add_row(label, value)
    console.print(table)
    console.print(f"stopped: {summary.why_stopped}")


@app.command()
def status(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Show open structures, their legs and unrealized P&L, and the last fills."""
    from bot.status_view import render_status
    from storage.journal import Journal

    cfg = _load(config)
    journal = Journal(cfg.database.url)
    try:
        console.print(f"journal {cfg.database.url} at {datetime.now().astimezone():%Y-%m-%d %H:%M}")
        render_status(journal, console)
    finally:
        journal.dispose()


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="Config file to check.")]) -> None:
    """Print `ok`, or every problem with its file, key, value found and what was expected."""
    _load(path)
    console.print("ok")
