"""Appeals of expiries and the replacement keys they allowed.

Revision ID: 0016_appeals
Revises: 0015_outcomes
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_appeals"
down_revision: str | None = "0015_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "appeals",
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(100), nullable=False),
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.String(64), nullable=False),
        sa.Column("filed_at", _TIME, nullable=False),
        sa.Column("expired_at", _TIME, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.Column("decision_reason", sa.String(500), nullable=True),
        sa.Column("replacement_allowed_from", _TIME, nullable=True),
        sa.Column("replacement_key_id", sa.String(100), nullable=True),
        sa.CheckConstraint(
            "status IN ('review', 'upheld', 'rejected')", name=op.f("ck_appeals_status")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("replacement_key_id", name=op.f("uq_appeals_replacement_key_id")),
    )
    op.create_index(op.f("ix_appeals_key_id"), "appeals", ["key_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_appeals_key_id"), table_name="appeals")
    op.drop_table("appeals")
