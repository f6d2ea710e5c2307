"""Audit anchors: the chain's signed heads, append-only like the chain itself.

Revision ID: 0013_audit_anchors
Revises: 0012_key_changes
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_audit_anchors"
down_revision: str | None = "0012_key_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSTGRES_APPEND_ONLY = [
    """CREATE FUNCTION audit_anchors_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_anchors is append-only'; END $$""",
    """CREATE TRIGGER audit_anchors_no_change BEFORE UPDATE OR DELETE ON audit_anchors
    FOR EACH ROW EXECUTE FUNCTION audit_anchors_append_only()""",
    """CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
    FOR EACH STATEMENT EXECUTE FUNCTION audit_anchors_append_only()""",
]
_SQLITE_APPEND_ONLY = [
    f"""CREATE TRIGGER audit_anchors_no_{verb.lower()} BEFORE {verb} ON audit_anchors
    BEGIN SELECT RAISE(ABORT, 'audit_anchors is append-only'); END"""
    for verb in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    op.create_table(
        "audit_anchors",
        sa.Column("chain_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("chain_seq", name=op.f("pk_audit_anchors")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_APPEND_ONLY if postgres else _SQLITE_APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("audit_anchors")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_anchors_append_only()")
