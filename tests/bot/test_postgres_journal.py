"""The daemon on a PostgreSQL journal, end to end (the README offers PostgreSQL by URL).

A simulated week with the whole strategy (condors and the VIX layer, daily logs on) runs once
on SQLite and once on PostgreSQL: every journaled fact must come out the same. Then the CLI
works on the PostgreSQL journal: status, the daily log, override commands, `alvh db`.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from postgres_server import PostgresServer
from sqlmodel import SQLModel
from typer.testing import CliRunner

from bot.cli import app
from bot.config import AppConfig
from bot.daemon import run_daemon
from storage.journal import Journal

FIRST, LAST = "2018-01-05", date(2018, 1, 12)  # a Monday entry, the layer's first trades
# Facts, compared row by row. Left out: the daemon lock (gone after a clean stop), commands
# (none) and the schema's version table.
FACT_TABLES = (
    "intents",
    "orders",
    "order_events",
    "fills",
    "structures",
    "legs",
    "rolls",
    "equity",
    "structure_marks",
    "hedge_snapshots",
    "runtime_state",
)
# A row rewritten by an upsert: PostgreSQL's ON CONFLICT DO UPDATE takes a sequence number even
# when it updates, so the surrogate id may skip numbers there. Compared by their natural key.
NATURAL_KEYS = {"structure_marks": ("structure_id", "day")}
runner = CliRunner(env={"COLUMNS": "200"})


pytestmark = pytest.mark.usefixtures("restore_root_logging")  # `alvh run` sets up logging


def sections(folder: Path, url: str) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "database": {"url": url},
        "logging": {"json_path": str(folder / "alvh.jsonl")},
        "reports": {"dir": str(folder / "reports")},
        "sim": {"start": FIRST, "speed": 1e9, "venue_path": str(folder / "venue.sqlite")},
    }


def toml_of(values: dict[str, Any]) -> str:
    lines = []
    for table, keys in values.items():
        lines.append(f"[{table}]")
        for key, value in keys.items():
            text = json.dumps(value) if isinstance(value, str) else repr(value)
            lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def facts(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of the fact tables, by primary key, through the tables' own types;
    an execution id keeps its number but not the venue's random session prefix."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            found = {}
            for name in FACT_TABLES:
                table = SQLModel.metadata.tables[name]
                key = NATURAL_KEYS.get(name)
                columns = [c for c in table.columns if key is None or c.name != "id"]
                order = [table.c[c] for c in key] if key else list(table.primary_key.columns)
                query = sa.select(*columns).order_by(*order)
                found[name] = [
                    tuple(without_session(column, value) for column, value in row._mapping.items())
                    for row in connection.execute(query)
                ]
            return found
    finally:
        engine.dispose()


def without_session(column: str, value: Any) -> Any:
    if column == "exec_id":  # sim-<session>-000001
        prefix, _, number = value.rpartition("-")
        assert prefix.startswith("sim-")
        return number
    return value


async def test_a_week_on_postgresql_journals_what_it_journals_on_sqlite(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    runs = {
        "sqlite": f"sqlite:///{tmp_path / 'sqlite' / 'alvh.sqlite'}",
        "postgresql": postgres.new_database(),
    }
    for name, url in runs.items():
        config = AppConfig.model_validate(sections(tmp_path / name, url))
        assert await run_daemon(config, until=LAST) == 0

    on_sqlite, on_postgres = facts(runs["sqlite"]), facts(runs["postgresql"])
    assert on_sqlite["fills"] and on_sqlite["rolls"] == []  # the week traded; nothing rolled
    engines = {row[1] for row in on_sqlite["structures"]}
    assert engines == {"condor", "vix"}, engines
    for table in FACT_TABLES:
        assert on_postgres[table] == on_sqlite[table], table

    reports = sorted(p.name for p in (tmp_path / "postgresql" / "reports").iterdir())
    assert reports[-1] == LAST.isoformat()  # the daily log's child read the PostgreSQL journal
    sqlite_day = tmp_path / "sqlite" / "reports" / reports[-1] / "fills.csv"
    postgres_day = tmp_path / "postgresql" / "reports" / reports[-1] / "fills.csv"
    assert postgres_day.read_text() == sqlite_day.read_text()


async def test_the_cli_works_on_a_postgresql_journal(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    url = postgres.new_database()
    path = tmp_path / "pg.toml"
    path.write_text(toml_of(sections(tmp_path, url)))

    result = runner.invoke(app, ["db", "upgrade", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "created the schema at revision" in result.output
    config = AppConfig.model_validate(sections(tmp_path, url))
    assert await run_daemon(config, until=date(2018, 1, 9)) == 0

    result = runner.invoke(app, ["status", "--config", str(path), "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    journal = Journal(url)
    try:
        opened = journal.open_structures()
        assert sorted(s["id"] for s in status["structures"]) == sorted(s.id for s in opened)
        assert status["last_fills"] and status["broker"]["last_fill_at"]
        assert status["account"]["structures_opened"] == len(opened)
    finally:
        journal.dispose()

    result = runner.invoke(app, ["pause", "--config", str(path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["commands", "list", "--config", str(path)])
    assert result.exit_code == 0 and "pause" in result.output and "pending" in result.output

    result = runner.invoke(
        app, ["report", "--config", str(path), "--date", "2018-01-08", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "2018-01-08" / "fills.csv").read_text().count("\n") > 1

    result = runner.invoke(app, ["db", "status", "--config", str(path)])
    assert result.exit_code == 0 and "up to date" in result.output
