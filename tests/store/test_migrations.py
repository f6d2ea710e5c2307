"""Alembic builds the schema the models describe, and can take it down again."""

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from store.anchors import AuditAnchorRow
from store.appeals import Appeal
from store.migrate import downgrade, sync_url, upgrade
from store.models import AccessLogEntry, Account, ApiKey, AuditEntry, load_metadata
from store.outcomes import OutcomeRow

OWN_TABLES = {
    m.__tablename__
    for m in (Account, ApiKey, AuditEntry, AccessLogEntry, Appeal, OutcomeRow, AuditAnchorRow)
}


def _own(item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = item if type_ == "table" else item.table
    return table.name in OWN_TABLES


def _diff_for_own_tables(url: str) -> list[Any]:
    engine = create_engine(sync_url(url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _own})
        diff = compare_metadata(context, load_metadata())
    engine.dispose()
    return list(diff)


def test_migrations_create_exactly_the_modelled_tables(database_url: str) -> None:
    assert _diff_for_own_tables(database_url) == []


def test_downgrade_to_base_removes_the_tables_and_upgrade_restores_them(database_url: str) -> None:
    downgrade(database_url, "base")
    engine = create_engine(sync_url(database_url))
    assert OWN_TABLES.isdisjoint(inspect(engine).get_table_names())
    upgrade(database_url)
    assert set(inspect(engine).get_table_names()) >= OWN_TABLES
    engine.dispose()


def test_upgrade_creates_the_sqlite_data_folder(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'nested' / 'keycase.db'}"
    upgrade(url)
    assert (tmp_path / "data" / "nested" / "keycase.db").exists()


def test_async_urls_migrate_through_sync_drivers() -> None:
    assert sync_url("sqlite+aiosqlite:///x.db") == "sqlite+pysqlite:///x.db"
    url = "postgresql+psycopg://u:p%40ss@h:5432/db"
    assert sync_url(url) == url
