"""Migration 0007 builds exactly the detection tables and access-log columns the models describe."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from store.migrate import downgrade, sync_url, upgrade
from store.models import load_metadata

TABLES = {"access_log", "access_key_tallies", "access_origin_tallies", "detection_sweep"}


def _diff(url: str) -> list[Any]:
    def own(item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return (item if type_ == "table" else item.table).name in TABLES

    engine = create_engine(sync_url(url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": own})
        diff = compare_metadata(context, load_metadata())
    engine.dispose()
    return list(diff)


def test_migration_matches_the_models_and_goes_down_and_up_again(database_url: str) -> None:
    assert _diff(database_url) == []
    downgrade(database_url, "0003_alert_intake")
    upgrade(database_url)
    assert _diff(database_url) == []
