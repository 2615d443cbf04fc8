"""The broker connection state, reported by the daemon with each heartbeat.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21

`alvh status` reads it from the journal alone (it never talks to the broker itself).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add daemon_lock.broker_state."""
    with op.batch_alter_table("daemon_lock") as batch:
        batch.add_column(sa.Column("broker_state", sa.String(), nullable=True))


def downgrade() -> None:
    """Drop daemon_lock.broker_state."""
    with op.batch_alter_table("daemon_lock") as batch:
        batch.drop_column("broker_state")
