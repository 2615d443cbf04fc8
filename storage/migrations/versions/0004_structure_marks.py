"""Daily mark history: the last mark of each structure on each New York day.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

`structure_marks` lets `alvh report --date D` rebuild a past day with that day's marks (the
structures table keeps only the latest one). Datetimes are naive UTC.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create structure_marks, one row per structure and day."""
    op.create_table(
        "structure_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("mark", sa.Float(), nullable=False),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["structure_id"], ["structures.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("structure_id", "day", name="uq_structure_marks_day"),
    )
    op.create_index("ix_structure_marks_structure_id", "structure_marks", ["structure_id"])


def downgrade() -> None:
    """Drop structure_marks."""
    op.drop_index("ix_structure_marks_structure_id", table_name="structure_marks")
    op.drop_table("structure_marks")
