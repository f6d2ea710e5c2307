"""Alert intake: each surveillance alert id and the case it joined (duplicate detection).

A row without a case is a claim: the alert is being handed to Temporal right now.

Revision ID: 0003_alert_intake
Revises: 0002_outbox
Create Date: 2026-01-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_alert_intake"
down_revision: str | None = "0002_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_intake",
        sa.Column("alert_id", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(100), nullable=False),
        sa.Column("case_id", sa.String(200), nullable=True),  # None while claimed
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert_intake")),
    )
    op.create_index(op.f("ix_alert_intake_key_id"), "alert_intake", ["key_id"])
    op.create_index(op.f("ix_alert_intake_case_id"), "alert_intake", ["case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_intake_case_id"), table_name="alert_intake")
    op.drop_index(op.f("ix_alert_intake_key_id"), table_name="alert_intake")
    op.drop_table("alert_intake")
