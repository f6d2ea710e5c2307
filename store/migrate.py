"""Apply the store's Alembic migrations.

    python -m store.migrate                # upgrade to head (KEYCASE_DATABASE_URL or SQLite)
    python -m store.migrate upgrade head
    python -m store.migrate downgrade base
    python -m store.migrate current
    alembic -c store/alembic.ini upgrade head   # the same, through Alembic's own CLI

From code: `store.migrate.upgrade(url)` (synchronous; from async code use
`await asyncio.to_thread(upgrade, url)`).
"""

import logging
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import make_url

_INI = Path(__file__).with_name("alembic.ini")

# Async drivers used by the application and the synchronous driver Alembic runs on.
_SYNC_DRIVERS = {
    "sqlite+aiosqlite": "sqlite+pysqlite",
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
}


def sync_url(url: str) -> str:
    """The same database reached through a synchronous driver."""
    parsed = make_url(url)
    driver = _SYNC_DRIVERS.get(parsed.drivername, parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration for `url` (default: Settings' database URL)."""
    config = Config(str(_INI))
    if url is not None:
        # Passed as an attribute, not a main option: URL-encoded passwords contain '%'.
        config.attributes["url"] = url
    return config


def _ensure_sqlite_folder(url: str | None) -> None:
    if url is None:
        from config.settings import Settings

        url = Settings().effective_database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the schema at `url` up to `revision`."""
    _ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None, revision: str) -> None:
    """Take the schema at `url` down to `revision` ("base" removes every table)."""
    command.downgrade(alembic_config(url), revision)


def main(argv: list[str]) -> None:
    """`python -m store.migrate [upgrade REV | downgrade REV | current | history]`."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    action, *rest = argv or ["upgrade"]
    revision = rest[0] if rest else "head"
    if action == "upgrade":
        upgrade(None, revision)
    elif action == "downgrade":
        downgrade(None, revision)
    elif action == "current":
        command.current(alembic_config(), verbose=True)
    elif action == "history":
        command.history(alembic_config())
    else:
        raise SystemExit(f"unknown action {action!r}; use upgrade, downgrade, current or history")


if __name__ == "__main__":
    main(sys.argv[1:])
