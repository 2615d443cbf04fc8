"""The journal's schema: Alembic revisions in storage/migrations, run from code.

Modeling choices:
- Every schema change is an Alembic revision (storage/migrations/versions). They run
  programmatically: a Config built here points at the migrations directory shipped inside the
  package, and the connection is handed to env.py; no alembic.ini is read at run time.
- Policy: a journal opened on an *empty* database gets the schema at head through the migrations
  (a fresh machine and every replay just work). A database that is behind, at a revision this
  version does not know, or "pre-migration" (journal tables without `alembic_version`: made by
  `create_all` before migrations existed) is refused: upgrading a journal that holds data is an
  operator's act (`alvh db upgrade`, after a backup), never a side effect of starting the daemon.
- A pre-migration database is stamped at the baseline revision 0001 and then upgraded, but only
  if its journal tables and their column names are exactly those of revision 0001, built for the
  comparison in a scratch in-memory SQLite by running 0001's own `upgrade()`.
- "Empty" ignores tables that are not the journal's (a PostgreSQL database may hold others); a
  SQLite file that does not exist yet is empty and is not created by a check.
- A private in-memory SQLite database (tests, `Journal.in_memory()`) is always empty and lives
  as long as its engine: it gets `create_all`, which is faster; a test asserts that the migrated
  schema equals the SQLModel metadata (Alembic's compare_metadata finds no difference), so the
  two cannot drift.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlmodel import SQLModel

import storage.commands  # registers the commands, runtime_state and rolls tables
import storage.hedge_snapshots  # registers the hedge_snapshots table
import storage.tables  # noqa: F401  (registers the journal tables)
from broker.errors import AlvhError
from storage import daemon_lock  # also registers the daemon_lock table

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"
VERSION_TABLE = "alembic_version"


class SchemaState(StrEnum):
    EMPTY = "empty"
    UP_TO_DATE = "up to date"
    BEHIND = "behind"
    UNKNOWN = "unknown revision"
    PRE_MIGRATION = "pre-migration"


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands against the migrations this version of alvh ships."""

    state: SchemaState
    head: str
    current: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()  # revisions an upgrade applies, oldest first
    differences: tuple[str, ...] = ()  # of a pre-migration database from revision 0001

    @property
    def opens(self) -> bool:
        """Return True if a journal opens on it as it is (empty or up to date)."""
        return self.state in (SchemaState.EMPTY, SchemaState.UP_TO_DATE)

    @property
    def upgradable(self) -> bool:
        """Return True if `alvh db upgrade` brings it to head."""
        if self.state is SchemaState.PRE_MIGRATION:
            return not self.differences
        return self.state in (SchemaState.EMPTY, SchemaState.BEHIND)

    def describe(self) -> str:
        """Return one paragraph a person can act on."""
        current = ", ".join(self.current)
        match self.state:
            case SchemaState.EMPTY:
                return f"empty database: the first start creates the schema at revision {self.head}"
            case SchemaState.UP_TO_DATE:
                return f"up to date at revision {self.head}"
            case SchemaState.BEHIND:
                return (
                    f"behind: the database is at revision {current}, this version of alvh needs "
                    f"{self.head}; pending revisions: {', '.join(self.pending)}"
                )
            case SchemaState.UNKNOWN:
                return (
                    f"unknown revision {current}: the database was migrated by another (newer?) "
                    f"version of alvh; this one knows revisions up to {self.head}. Run the alvh "
                    "that wrote it, or point database.url at another journal"
                )
        if self.differences:
            return (
                "pre-migration database (journal tables but no alembic_version) whose tables do "
                f"not match revision {BASELINE}: {'; '.join(self.differences)}. It cannot be "
                "stamped; repair it by hand or start a new journal"
            )
        return (
            "pre-migration database (journal tables but no alembic_version: made by an alvh "
            f"without migrations); its tables match revision {BASELINE}, so `alvh db upgrade` "
            f"stamps it at {BASELINE} and upgrades it to {self.head}"
        )


@dataclass(frozen=True)
class UpgradeResult:
    """What `upgrade` found and did."""

    before: SchemaStatus
    revision: str
    stamped: bool


class JournalUnavailable(AlvhError):
    """The journal's database cannot be used as it is: the daemon refuses to start (exit 2)."""


class DatabaseUnreachable(JournalUnavailable):
    """The URL is invalid, its driver is missing, or the database does not answer."""


class SchemaNotCurrent(JournalUnavailable):
    """The schema is behind, unknown or pre-migration: `alvh db upgrade` or another journal."""

    def __init__(self, status: SchemaStatus) -> None:
        self.status = status
        super().__init__(f"the journal's schema is not current: {status.describe()}")


class UpgradeRefused(JournalUnavailable):
    """The database is at an unknown revision, or pre-migration but unlike revision 0001."""


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """Return an Alembic Config for the journal's migrations, on a URL or an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def stamp_head(url: str) -> None:
    """Mark a database whose tables were made from the models (`create_all`) as at head.

    Valid because the head's schema equals the models' (a test checks it); used for the
    in-memory journal a replay saves to a file.
    """
    command.stamp(alembic_config(url=url), "head")


def check_url(url: str) -> None:
    """Raise DatabaseUnreachable if `url` does not parse or its driver is not installed."""
    _engine(url, create=False).dispose()


def head_revision() -> str:
    """Return the newest revision this version of alvh ships."""
    head = _scripts().get_current_head()
    assert head is not None, "storage/migrations has no revision"
    return head


def current_revision(url: str) -> str | None:
    """Return the revision a database is stamped with, or None if it has none."""
    if _missing_sqlite_file(url):
        return None
    with _connected(url) as connection:
        heads = _current_heads(connection)
    return ",".join(heads) if heads else None


def check_schema(url: str) -> SchemaStatus:
    """Return where the database at `url` stands against the shipped migrations."""
    if _missing_sqlite_file(url):
        return SchemaStatus(SchemaState.EMPTY, head_revision())
    with _connected(url) as connection:
        return _status(connection)


def upgrade(url: str) -> UpgradeResult:
    """Bring the database at `url` to head; stamp a pre-migration one that matches 0001 first."""
    with _connected(url, create=True) as connection:
        before = _status(connection)
        if not before.upgradable and before.state is not SchemaState.UP_TO_DATE:
            raise UpgradeRefused(f"{_redacted(url)}: {before.describe()}")
        _refuse_under_a_running_daemon(connection, url)
        stamped = before.state is SchemaState.PRE_MIGRATION
        config = alembic_config(connection=connection)
        if stamped:
            command.stamp(config, BASELINE)
        if before.state is not SchemaState.UP_TO_DATE:
            command.upgrade(config, "head")
        connection.commit()
    return UpgradeResult(before, head_revision(), stamped)


def _refuse_under_a_running_daemon(connection: Connection, url: str) -> None:
    """Never change the schema under a daemon whose heartbeat is fresh."""
    if not sa.inspect(connection).has_table(daemon_lock.DaemonLockRow.__tablename__):
        return
    holder = daemon_lock.holder_on(connection)
    now = datetime.now(UTC)
    if (
        holder is not None
        and daemon_lock.stale_reason(holder, now=now, host=socket.gethostname(), pid=os.getpid())
        is None
    ):
        raise UpgradeRefused(
            f"{_redacted(url)}: a daemon runs on this journal ({holder.describe(now)}); "
            "stop it before upgrading the schema"
        )


def prepare(engine: SqlEngine) -> None:
    """Give a journal's empty database the schema at head; refuse one not at head."""
    if _private_memory(engine.url):
        SQLModel.metadata.create_all(engine)
        return
    status = _inspect(engine)
    if status.state is SchemaState.EMPTY:
        try:
            with engine.begin() as connection:
                command.upgrade(alembic_config(connection=connection), "head")
            return
        except DBAPIError as exc:
            status = _inspect(engine)  # another process may have created it meanwhile
            if status.state is SchemaState.EMPTY:
                where = engine.url.render_as_string(hide_password=True)
                raise JournalUnavailable(
                    f"cannot create the journal's schema in {where}: {exc.orig}"
                ) from exc
    if status.state is not SchemaState.UP_TO_DATE:
        raise SchemaNotCurrent(status)


def _inspect(engine: SqlEngine) -> SchemaStatus:
    try:
        with engine.connect() as connection:
            return _status(connection)
    except DBAPIError as exc:
        raise DatabaseUnreachable(_unreachable(engine.url, exc)) from exc


def _status(connection: Connection) -> SchemaStatus:
    scripts = _scripts()
    head = scripts.get_current_head() or BASELINE
    tables = set(sa.inspect(connection).get_table_names())
    heads = _current_heads(connection)
    if not heads:
        if not tables & set(SQLModel.metadata.tables):
            return SchemaStatus(SchemaState.EMPTY, head)
        return SchemaStatus(
            SchemaState.PRE_MIGRATION, head, differences=_baseline_differences(connection)
        )
    if heads == (head,):
        return SchemaStatus(SchemaState.UP_TO_DATE, head, heads)
    known = [script.revision for script in scripts.walk_revisions()]  # head first
    if not set(heads) <= set(known):
        return SchemaStatus(SchemaState.UNKNOWN, head, heads)
    applied = {script.revision for script in scripts.iterate_revisions(heads, "base")}
    todo = tuple(revision for revision in reversed(known) if revision not in applied)
    if not todo:
        return SchemaStatus(SchemaState.UNKNOWN, head, heads)
    return SchemaStatus(SchemaState.BEHIND, head, heads, todo)


def _baseline_differences(connection: Connection) -> tuple[str, ...]:
    """Compare journal tables and column names with what revision 0001 creates."""
    expected = _baseline_columns()
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names()) & set(SQLModel.metadata.tables)
    found: list[str] = []
    for table in sorted(present - set(expected)):
        found.append(f"table {table} is not part of revision {BASELINE}")
    for table, columns in sorted(expected.items()):
        if table not in present:
            found.append(f"table {table} is missing")
            continue
        actual = {column["name"] for column in inspector.get_columns(table)}
        if missing := sorted(columns - actual):
            found.append(f"{table} lacks column(s) {', '.join(missing)}")
        if extra := sorted(actual - columns):
            found.append(f"{table} has unexpected column(s) {', '.join(extra)}")
    return tuple(found)


def _baseline_columns() -> dict[str, set[str]]:
    """Run revision 0001's upgrade() in a scratch in-memory SQLite and reflect its columns."""
    baseline = _scripts().get_revision(BASELINE)
    assert baseline is not None
    engine = sa.create_engine("sqlite://")
    try:
        with (
            engine.begin() as connection,
            Operations.context(MigrationContext.configure(connection)),
        ):
            baseline.module.upgrade()
        inspector = sa.inspect(engine)
        return {
            table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def _current_heads(connection: Connection) -> tuple[str, ...]:
    """Read alembic_version directly (MigrationContext would log at INFO on every start)."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
    return tuple(sorted(str(row) for row in rows))


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


@contextmanager
def _connected(url: str, create: bool = False) -> Iterator[Connection]:
    """Connect to `url` for schema work; a URL or a connection that fails is a clear error."""
    engine = _engine(url, create)
    try:
        try:
            connection = engine.connect()
        except DBAPIError as exc:
            raise DatabaseUnreachable(_unreachable(engine.url, exc)) from exc
        with connection:
            yield connection
    finally:
        engine.dispose()


# The drivers the project offers, and how to install them.
DRIVER_HINTS = {"psycopg": "the PostgreSQL driver: pip install -e '.[postgres]'"}


def _engine(url: str, create: bool) -> SqlEngine:
    """Build an engine without the journal's pragmas: SQLite batch migrations want FKs off."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if create and (path := _sqlite_path(parsed)) is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            return sa.create_engine(parsed, connect_args={"timeout": 5.0})
        return sa.create_engine(parsed)
    except ImportError as exc:  # the URL names a driver that is not installed
        hint = DRIVER_HINTS.get(exc.name or "", "install the driver the URL names")
        raise DatabaseUnreachable(
            f"cannot use database URL {_redacted(url)}: {exc} ({hint})"
        ) from exc
    except (ArgumentError, NoSuchModuleError) as exc:
        raise DatabaseUnreachable(f"cannot use database URL {_redacted(url)}: {exc}") from exc
    except OSError as exc:
        where = _redacted(url)
        raise DatabaseUnreachable(f"cannot create the directory of {where}: {exc}") from exc


def _missing_sqlite_file(url: str) -> bool:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnreachable(f"cannot use database URL {_redacted(url)}: {exc}") from exc
    if parsed.get_backend_name() != "sqlite":
        return False
    path = _sqlite_path(parsed)
    return path is not None and not path.exists()


def _sqlite_path(url: URL) -> Path | None:
    """Return the file of a SQLite URL, or None for memory and `file:` URIs."""
    database = url.database or ""
    if _private_memory(url) or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def _private_memory(url: URL) -> bool:
    database = url.database or ""
    return url.get_backend_name() == "sqlite" and (
        database in ("", ":memory:") or "mode=memory" in database
    )


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _unreachable(url: URL, exc: DBAPIError) -> str:
    where = url.render_as_string(hide_password=True)
    return f"cannot open the journal database {where}: {exc.orig}"
