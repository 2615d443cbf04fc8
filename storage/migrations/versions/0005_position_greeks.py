"""Position greeks at each mark: on the structure (latest) and in the daily mark history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21

Nullable delta, gamma, vega and theta columns (units: broker.structures.PositionGreeks), so
`alvh status` and the daily log can show the book's greeks from the journal alone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GREEKS = ("delta", "gamma", "vega", "theta")


def upgrade() -> None:
    """Add the greek columns to structures and structure_marks."""
    for table in ("structures", "structure_marks"):
        with op.batch_alter_table(table) as batch:
            for name in GREEKS:
                batch.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    """Drop the greek columns."""
    for table in ("structures", "structure_marks"):
        with op.batch_alter_table(table) as batch:
            for name in GREEKS:
                batch.drop_column(name)
