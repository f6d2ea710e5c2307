"""The gateways' change feed (key_changes) and the batches of decisions they reported.

Every key registered before this migration gets one change row (its view now), in the
order the keys were created, so a replica that reads the feed from the start sees them.

Revision ID: 0012_key_changes
Revises: 0007_detection
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_key_changes"
down_revision: str | None = "0007_detection"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL = """
INSERT INTO key_changes
    (seq, key_id, account_id, exchange, status, permissions, allowed_ips, expires_at, changed_at)
SELECT ROW_NUMBER() OVER (ORDER BY created_at, key_id), key_id, account_id, exchange, status,
       permissions, allowed_ips, expires_at, updated_at
FROM api_keys
"""


def upgrade() -> None:
    op.create_table(
        "key_changes",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key_id", sa.String(100), nullable=False),
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("allowed_ips", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_key_changes")),
    )
    op.create_table(
        "access_reports",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_access_reports")),
    )
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.drop_table("access_reports")
    op.drop_table("key_changes")
