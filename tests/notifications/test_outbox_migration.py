"""Migration 0002 builds exactly the outbox tables the models describe, and takes them down."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from store.migrate import downgrade, sync_url, upgrade
from store.models import load_metadata
from store.outbox import OutboxRow, WebhookEventSeenRow

OUTBOX_TABLES = {OutboxRow.__tablename__, WebhookEventSeenRow.__tablename__}


def _outbox_only(item: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    table = item if type_ == "table" else item.table
    return table.name in OUTBOX_TABLES


def test_migrated_outbox_tables_match_the_models(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _outbox_only})
        assert compare_metadata(context, load_metadata()) == []
    engine.dispose()


def test_downgrade_below_0002_removes_the_outbox_and_upgrade_restores_it(
    database_url: str,
) -> None:
    engine = create_engine(sync_url(database_url))
    downgrade(database_url, "0001_registry_audit")
    assert OUTBOX_TABLES.isdisjoint(inspect(engine).get_table_names())
    upgrade(database_url)
    assert set(inspect(engine).get_table_names()) >= OUTBOX_TABLES
    engine.dispose()
