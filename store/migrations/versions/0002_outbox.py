"""Notification outbox and the provider webhook events already applied.

Revision ID: 0002_outbox
Revises: 0001_registry_audit
Create Date: 2026-01-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_outbox"
down_revision: str | None = "0001_registry_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notification_outbox",
        sa.Column("outbox_id", sa.String(40), nullable=False),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("notice_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("notice", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(16), nullable=True),
        sa.Column("provider_message_id", sa.String(128), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("in_doubt", sa.Boolean(), nullable=False),
        sa.Column("last_attempt_at", _TIME, nullable=True),
        sa.Column("recipient_hint", sa.String(64), nullable=True),
        sa.Column("subject", sa.String(300), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("outbox_id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint(
            "case_id", "notice_id", "channel", name=op.f("uq_notification_outbox_case_id")
        ),
    )
    op.create_index(op.f("ix_notification_outbox_case_id"), "notification_outbox", ["case_id"])
    op.create_index(
        op.f("ix_notification_outbox_provider_message_id"),
        "notification_outbox",
        ["provider_message_id"],
    )
    op.create_table(
        "webhook_event_seen",
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("outbox_id", sa.String(40), nullable=True),
        sa.Column("received_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("provider", "event_id", name=op.f("pk_webhook_event_seen")),
    )


def downgrade() -> None:
    op.drop_table("webhook_event_seen")
    op.drop_index(
        op.f("ix_notification_outbox_provider_message_id"), table_name="notification_outbox"
    )
    op.drop_index(op.f("ix_notification_outbox_case_id"), table_name="notification_outbox")
    op.drop_table("notification_outbox")
