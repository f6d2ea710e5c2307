"""Detection: client details and network on each access-log row, per-window aggregates, sweep state.

Revision ID: 0007_detection
Revises: 0003_alert_intake
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_detection"
down_revision: str | None = "0003_alert_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def _counts() -> list[sa.Column[object]]:
    return [
        sa.Column("account_id", sa.String(100), nullable=True),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("first_at", _TIME, nullable=False),
        sa.Column("last_at", _TIME, nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("access_log") as table:
        table.add_column(sa.Column("user_agent", sa.String(256), nullable=True))
        table.add_column(sa.Column("tls_fingerprint", sa.String(36), nullable=True))
        table.add_column(sa.Column("network", sa.String(64), nullable=True))
    op.create_table(
        "access_key_tallies",
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(100), nullable=False),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint(
            "bucket", "key_id", "network", "reason", name=op.f("pk_access_key_tallies")
        ),
    )
    op.create_table(
        "access_origin_tallies",
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(100), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint(
            "bucket", "kind", "origin", "key_id", name=op.f("pk_access_origin_tallies")
        ),
    )
    op.create_table(
        "detection_sweep",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("watermark_id", sa.BigInteger(), nullable=False),
        sa.Column("pending_from", _TIME, nullable=True),
        sa.Column("pending_to", _TIME, nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_detection_sweep")),
    )


def downgrade() -> None:
    op.drop_table("detection_sweep")
    op.drop_table("access_origin_tallies")
    op.drop_table("access_key_tallies")
    with op.batch_alter_table("access_log") as table:
        table.drop_column("network")
        table.drop_column("tls_fingerprint")
        table.drop_column("user_agent")
