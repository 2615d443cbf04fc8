"""Hedge snapshots: the signals of the day and the layer's k and ratio at each rebalance.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21

One row per signals job and per hedge rebalance (`job`), so the report can chart k, the ratio and
R2 over time and a restart resumes k and the ratio where they were. Datetimes are naive UTC.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create hedge_snapshots."""
    op.create_table(
        "hedge_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("job", sa.String(), nullable=False),
        sa.Column("signals_day", sa.Date(), nullable=True),
        sa.Column("k", sa.Float(), nullable=False),
        sa.Column("k_effective", sa.Float(), nullable=False),
        sa.Column("ratio", sa.Integer(), nullable=False),
        sa.Column("hedge_scale", sa.Float(), nullable=False),
        sa.Column("r2", sa.Float(), nullable=True),
        sa.Column("breadth_divergence", sa.Boolean(), nullable=False),
        sa.Column("spx_crossover", sa.Integer(), nullable=False),
        sa.Column("vix_rsi", sa.Float(), nullable=True),
        sa.Column("rsi_episode", sa.String(), nullable=False),
        sa.Column("rsi_episode_start", sa.Date(), nullable=True),
        sa.Column("condor_scenario_pnl", sa.Float(), nullable=True),
        sa.Column("layer_scenario_pnl", sa.Float(), nullable=True),
        sa.Column("layer_cost_year", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hedge_snapshots_at", "hedge_snapshots", ["at"])
    op.create_index("ix_hedge_snapshots_day", "hedge_snapshots", ["day"])


def downgrade() -> None:
    """Drop hedge_snapshots."""
    op.drop_index("ix_hedge_snapshots_day", table_name="hedge_snapshots")
    op.drop_index("ix_hedge_snapshots_at", table_name="hedge_snapshots")
    op.drop_table("hedge_snapshots")
