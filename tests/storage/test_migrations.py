"""The journal's schema through Alembic: created, compared, stamped, upgraded or refused."""

from __future__ import annotations

import os
import socket
import sys
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from storage import daemon_lock, schema
from storage.journal import Journal
from storage.schema import (
    DatabaseUnreachable,
    SchemaNotCurrent,
    SchemaState,
    UpgradeRefused,
    check_schema,
    current_revision,
    head_revision,
    upgrade,
)

# The tables alvh created with `SQLModel.metadata.create_all` before it had migrations.
PRE_MIGRATION_TABLES = (
    "intents",
    "orders",
    "order_events",
    "fills",
    "structures",
    "legs",
    "equity",
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'journal.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """An empty journal database: a SQLite file, then a PostgreSQL database."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres").new_database())
    return sqlite_url


@pytest.fixture
def engine(url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()


def migrate_to(engine: sa.Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection=connection), revision)


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def make_pre_migration_journal(engine: sa.Engine) -> None:
    """Create the tables as alvh did before migrations (revision 0001's, unversioned), with
    one intent in them. Today's SQLModel tables have moved on, so they are not used here."""
    migrate_to(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE alembic_version")
    assert table_names(engine) == set(PRE_MIGRATION_TABLES)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO intents (id, created_at, kind, engine, structure_kind, quantity,"
            " limit_price, reason, legs_json, status, status_message, updated_at) VALUES"
            " (7, '2018-01-08 15:00:00', 'open', 'condor', 'iron_condor', 1, -1.5, 'entry',"
            " '[]', 'filled', '', '2018-01-08 15:00:00')"
        )


def test_head_is_the_last_revision_and_0001_is_the_baseline() -> None:
    assert head_revision() == "0007"
    assert schema.BASELINE == "0001"


def test_a_missing_sqlite_file_is_empty_and_checking_does_not_create_it(
    tmp_path: Path, sqlite_url: str
) -> None:
    url = sqlite_url
    status = check_schema(url)
    assert status.state is SchemaState.EMPTY and status.opens and status.upgradable
    assert current_revision(url) is None
    assert not (tmp_path / "journal.sqlite").exists()


def test_upgrade_creates_the_schema_on_an_empty_file_database(
    tmp_path: Path, engine: sa.Engine
) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'dir' / 'journal.sqlite'}"
    result = upgrade(url)
    assert result.before.state is SchemaState.EMPTY and not result.stamped
    assert result.revision == head_revision() == current_revision(url)
    assert check_schema(url).state is SchemaState.UP_TO_DATE
    created = sa.create_engine(url)
    assert table_names(created) == {*SQLModel.metadata.tables, "alembic_version"}
    created.dispose()


def test_upgrade_at_head_changes_nothing(url: str) -> None:
    upgrade(url)
    again = upgrade(url)
    assert again.before.state is SchemaState.UP_TO_DATE
    assert current_revision(url) == head_revision()


def test_journal_on_an_empty_database_migrates_it_to_head(url: str, engine: sa.Engine) -> None:
    journal = Journal(url)
    journal.dispose()
    assert current_revision(url) == head_revision()
    assert "daemon_lock" in table_names(engine)


def test_migrated_schema_equals_the_sqlmodel_metadata(url: str, engine: sa.Engine) -> None:
    upgrade(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_the_comparison_sees_a_column_the_migrations_lack(url: str, engine: sa.Engine) -> None:
    upgrade(url)
    metadata = sa.MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["fills"].append_column(sa.Column("venue", sa.String(), nullable=True))
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [(op[0], op[2]) for op in diff] == [("add_column", "fills")]


def test_in_memory_journal_has_the_same_tables_as_a_migrated_one(
    url: str, engine: sa.Engine
) -> None:
    upgrade(url)
    memory = Journal.in_memory()
    assert table_names(memory.engine) == table_names(engine) - {"alembic_version"}
    memory.dispose()


def test_downgrade_to_base_drops_every_table_and_upgrade_restores_them(engine: sa.Engine) -> None:
    migrate_to(engine, "head")
    with engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection=connection), "base")
    assert table_names(engine) <= {"alembic_version"}
    migrate_to(engine, "head")
    assert set(SQLModel.metadata.tables) <= table_names(engine)


def test_a_database_behind_is_refused_by_the_journal_then_upgraded(
    url: str, engine: sa.Engine
) -> None:
    migrate_to(engine, "0001")
    status = check_schema(url)
    assert status.state is SchemaState.BEHIND
    pending = ("0002", "0003", "0004", "0005", "0006", "0007")
    assert (status.current, status.pending) == (("0001",), pending)
    assert status.upgradable and not status.opens
    with pytest.raises(SchemaNotCurrent, match=r"behind.*revision 0001.*needs 0007") as refused:
        Journal(url)
    assert refused.value.status == status
    result = upgrade(url)
    assert result.before == status and not result.stamped
    assert current_revision(url) == "0007"
    Journal(url).dispose()


def test_a_pre_migration_database_is_detected_and_stamped_by_upgrade(
    url: str, engine: sa.Engine
) -> None:
    make_pre_migration_journal(engine)
    status = check_schema(url)
    assert status.state is SchemaState.PRE_MIGRATION
    assert status.differences == () and status.upgradable
    assert "stamps it at 0001" in status.describe()
    with pytest.raises(SchemaNotCurrent, match="pre-migration"):
        Journal(url)
    assert current_revision(url) is None
    assert "alembic_version" not in table_names(engine)  # refusing changed nothing

    result = upgrade(url)

    assert result.stamped and result.before.state is SchemaState.PRE_MIGRATION
    assert current_revision(url) == head_revision()
    journal = Journal(url)
    assert journal.intent_status(7) == "filled"  # the data survived
    journal.dispose()


def test_a_pre_migration_database_unlike_0001_is_refused_and_left_alone(
    url: str, engine: sa.Engine
) -> None:
    make_pre_migration_journal(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE equity")
        connection.exec_driver_sql("ALTER TABLE fills ADD COLUMN venue VARCHAR")
    status = check_schema(url)
    assert status.state is SchemaState.PRE_MIGRATION and not status.upgradable
    assert status.differences == (
        "table equity is missing",
        "fills has unexpected column(s) venue",
    )
    with pytest.raises(UpgradeRefused, match="do not match revision 0001"):
        upgrade(url)
    assert "alembic_version" not in table_names(engine)


def test_other_applications_tables_do_not_make_a_database_pre_migration(
    url: str, engine: sa.Engine
) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE someone_elses (id INTEGER PRIMARY KEY)")
    assert check_schema(url).state is SchemaState.EMPTY
    Journal(url).dispose()
    assert current_revision(url) == head_revision()


def test_a_database_at_an_unknown_revision_is_refused(url: str, engine: sa.Engine) -> None:
    upgrade(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    status = check_schema(url)
    assert status.state is SchemaState.UNKNOWN and status.current == ("0099",)
    assert not status.upgradable and not status.opens
    with pytest.raises(SchemaNotCurrent, match="unknown revision 0099"):
        Journal(url)
    with pytest.raises(UpgradeRefused, match="unknown revision 0099"):
        upgrade(url)
    assert current_revision(url) == "0099"


def test_upgrade_refuses_to_change_the_schema_under_a_running_daemon(url: str) -> None:
    journal = Journal(url)
    daemon_lock.acquire(journal.engine, pid=os.getppid(), host=socket.gethostname())
    with pytest.raises(UpgradeRefused, match=f"pid {os.getppid()}.*stop it"):
        upgrade(url)
    journal.dispose()


@pytest.mark.parametrize(
    ("bad_url", "says"),
    [
        ("not a url", "cannot use database URL"),
        ("nosuchdb://host/x", "cannot use database URL"),
        ("sqlite:////proc/no/such/dir/journal.sqlite", "cannot create the directory"),
    ],
)
def test_a_bad_url_is_a_clear_error(bad_url: str, says: str) -> None:
    with pytest.raises(DatabaseUnreachable, match=says):
        upgrade(bad_url)


def test_an_unopenable_database_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    (tmp_path / "a_directory").mkdir()
    with pytest.raises(DatabaseUnreachable, match="cannot open the journal database"):
        check_schema(f"sqlite:///{tmp_path / 'a_directory'}")
    with pytest.raises(DatabaseUnreachable) as missing_driver:
        check_schema("mysql+nosuchdriver://alvh:s3cret@db.example/alvh")
    assert "s3cret" not in str(missing_driver.value) and "***" in str(missing_driver.value)


def test_every_migration_file_is_package_data() -> None:
    root = Path(__file__).resolve().parents[2]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["storage"]
    files = [
        path.relative_to(root / "storage").as_posix()
        for path in schema.MIGRATIONS.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert {"migrations/env.py", "migrations/versions/0002_daemon_lock.py"} <= set(files)
    unshipped = [f for f in files if not any(fnmatch(f, pattern) for pattern in patterns)]
    assert unshipped == []


def test_a_missing_postgresql_driver_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the extra were not installed
    with pytest.raises(DatabaseUnreachable) as missing:
        check_schema("postgresql+psycopg://alvh:s3cret@db.example/alvh")
    message = str(missing.value)
    assert message.endswith("(the PostgreSQL driver: pip install -e '.[postgres]')")
    assert "s3cret" not in message
