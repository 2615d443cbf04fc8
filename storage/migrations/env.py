"""Alembic environment of the journal, run by storage.schema (no alembic.ini).

storage.schema passes an open connection in `config.attributes["connection"]`; without one
(a developer's autogenerate from a URL) an engine is built from the `sqlalchemy.url` option.
`render_as_batch=True` lets SQLite, which cannot ALTER most things in place, rebuild a table in
a later revision. The SQLModel column types are rendered as the plain SQLAlchemy types they
store as, so a revision never imports application code that may change after it is written.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import storage.commands  # registers the commands, runtime_state and rolls tables
import storage.daemon_lock  # registers the daemon_lock table
import storage.hedge_snapshots  # registers the hedge_snapshots table
import storage.tables  # registers the journal tables on SQLModel.metadata

config = context.config
target_metadata = SQLModel.metadata


def render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render SQLModel's AutoString and the journal's UTCDateTime as plain SQLAlchemy types."""
    if kind == "type" and isinstance(item, AutoString):
        return "sa.String()"
    if kind == "type" and isinstance(item, storage.tables.UTCDateTime):
        return "sa.DateTime()"
    return False


def run_on(connection: Connection) -> None:
    """Run the pending revisions (or autogenerate) on an open connection."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Use the caller's connection, or connect to `sqlalchemy.url`."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as connection:
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("the journal's migrations run online only (storage.schema.upgrade)")
run_online()
