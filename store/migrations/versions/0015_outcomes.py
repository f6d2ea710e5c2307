"""Outcomes back to surveillance: one row per alert of each ended case, with the
webhook's delivery state (the outbox the worker's push drains).

Revision ID: 0015_outcomes
Revises: 0014_rings
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_outcomes"
down_revision: str | None = "0014_rings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("outcome_id", sa.String(330), nullable=False),
        sa.Column("alert_id", sa.String(128), nullable=False),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(100), nullable=False),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outcomes")),
        sa.UniqueConstraint("outcome_id", name=op.f("uq_outcomes_outcome_id")),
    )
    op.create_index("ix_outcomes_undelivered", "outcomes", ["delivered_at", "seq"])
    op.create_index(op.f("ix_outcomes_exchange"), "outcomes", ["exchange"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outcomes_exchange"), table_name="outcomes")
    op.drop_index("ix_outcomes_undelivered", table_name="outcomes")
    op.drop_table("outcomes")
