"""Rings: the links between accounts with their reasons, each account's ring, the rings' index.

Revision ID: 0014_rings
Revises: 0013_audit_anchors
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_rings"
down_revision: str | None = "0013_audit_anchors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ring_links",
        sa.Column("link_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("key_a", sa.String(100), nullable=False),
        sa.Column("account_a", sa.String(100), nullable=False),
        sa.Column("key_b", sa.String(100), nullable=False),
        sa.Column("account_b", sa.String(100), nullable=False),
        sa.Column("origin", sa.String(200), nullable=True),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("link_id", name=op.f("pk_ring_links")),
    )
    op.create_index("ix_ring_links_pair", "ring_links", ["account_a", "account_b"])
    op.create_table(
        "rings",
        sa.Column("ring_id", sa.String(64), nullable=False),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("formed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_into", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("ring_id", name=op.f("pk_rings")),
    )
    op.create_index("ix_rings_listing", "rings", ["exchange", "formed_at"])
    op.create_table(
        "ring_accounts",
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("ring_id", sa.String(64), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_ring_accounts")),
    )
    op.create_index(op.f("ix_ring_accounts_ring_id"), "ring_accounts", ["ring_id"])


def downgrade() -> None:
    op.drop_table("ring_accounts")
    op.drop_table("rings")
    op.drop_table("ring_links")
