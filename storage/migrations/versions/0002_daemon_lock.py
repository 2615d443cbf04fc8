"""Daemon lock: the one-row table through which one daemon at a time owns the journal.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

See storage/daemon_lock.py: the row with id 1 names the running daemon (pid, host, start) and
its last heartbeat, all naive UTC.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the daemon_lock table."""
    op.create_table(
        "daemon_lock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_daemon_lock_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    """Drop the daemon_lock table."""
    op.drop_table("daemon_lock")
