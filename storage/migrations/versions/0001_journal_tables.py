"""Journal tables: intents, orders, order_events, fills, structures, legs, equity.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

The baseline: exactly the tables that `SQLModel.metadata.create_all` made before migrations
existed (storage/tables.py at that time). A database created that way is stamped at this
revision by `alvh db upgrade`. Datetimes are naive UTC (`DateTime` without a zone).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the journal tables and their indexes."""
    op.create_table(
        "intents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("engine", sa.String(), nullable=False),
        sa.Column("structure_kind", sa.String(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("limit_price", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("legs_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_intents_status", "intents", ["status"])
    op.create_index("ix_intents_structure_id", "intents", ["structure_id"])

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intent_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("broker_order_id", sa.String(), nullable=True),
        sa.Column("limit_price", sa.Float(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("filled", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("avg_fill_price", sa.Float(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("placed_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["intent_id"], ["intents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("intent_id"),
        sa.UniqueConstraint("ref"),
    )

    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("filled", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("limit_price", sa.Float(), nullable=False),
        sa.Column("avg_fill_price", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_order_events_ref", "order_events", ["ref"])

    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exec_id", sa.String(), nullable=False),
        sa.Column("order_ref", sa.String(), nullable=False),
        sa.Column("intent_id", sa.Integer(), nullable=True),
        sa.Column("sec_type", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("trading_class", sa.String(), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=False),
        sa.Column("strike", sa.Float(), nullable=True),
        sa.Column("right", sa.String(), nullable=True),
        sa.Column("multiplier", sa.Integer(), nullable=False),
        sa.Column("exchange", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("commission", sa.Float(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exec_id"),
    )
    op.create_index("ix_fills_intent_id", "fills", ["intent_id"])
    op.create_index("ix_fills_order_ref", "fills", ["order_ref"])
    op.create_index("ix_fills_time", "fills", ["time"])

    op.create_table(
        "structures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("open_price", sa.Float(), nullable=False),
        sa.Column("multiplier", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("open_intent_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("close_price", sa.Float(), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("realized_pnl", sa.Float(), nullable=True),
        sa.Column("mark", sa.Float(), nullable=True),
        sa.Column("marked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["open_intent_id"], ["intents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_structures_open_intent_id", "structures", ["open_intent_id"])
    op.create_index("ix_structures_status", "structures", ["status"])

    op.create_table(
        "legs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sec_type", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("trading_class", sa.String(), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=False),
        sa.Column("strike", sa.Float(), nullable=True),
        sa.Column("right", sa.String(), nullable=True),
        sa.Column("multiplier", sa.Integer(), nullable=False),
        sa.Column("exchange", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("ratio", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["structure_id"], ["structures.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_legs_structure_id", "legs", ["structure_id"])

    op.create_table(
        "equity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("net_liquidation", sa.Float(), nullable=False),
        sa.Column("cash", sa.Float(), nullable=False),
        sa.Column("maintenance_margin", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day"),
    )


def downgrade() -> None:
    """Drop the journal tables (their indexes go with them), children first."""
    for table in ("equity", "legs", "structures", "fills", "order_events", "orders", "intents"):
        op.drop_table(table)
