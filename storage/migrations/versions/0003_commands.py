"""Override commands: the commands audit trail, the runtime state they set, and rolls.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

See storage/commands.py: `commands` (the CLI writes pending rows, the daemon answers them),
`runtime_state` (one JSON value per key: paused, killed, ...) and `rolls` (old and new
structure of a roll, with the reason and the net price). Datetimes are naive UTC.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the commands, runtime_state and rolls tables."""
    op.create_table(
        "commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("verb", sa.String(), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_commands_status", "commands", ["status"])

    op.create_table(
        "runtime_state",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )

    op.create_table(
        "rolls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("old_structure_id", sa.Integer(), nullable=False),
        sa.Column("new_structure_id", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("net_price", sa.Float(), nullable=False),
        sa.Column("command_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["old_structure_id"], ["structures.id"]),
        sa.ForeignKeyConstraint(["new_structure_id"], ["structures.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rolls_time", "rolls", ["time"])
    op.create_index("ix_rolls_old_structure_id", "rolls", ["old_structure_id"])
    op.create_index("ix_rolls_new_structure_id", "rolls", ["new_structure_id"])


def downgrade() -> None:
    """Drop the rolls, runtime_state and commands tables."""
    for table in ("rolls", "runtime_state", "commands"):
        op.drop_table(table)
