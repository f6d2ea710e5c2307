"""Alembic environment: the URL from the caller (or Settings), every store table, sync drivers.

Migrations run on synchronous drivers (pysqlite, psycopg) so that `store.migrate.upgrade`
is a plain function that async callers can hand to a thread.
"""

from alembic import context
from sqlalchemy import create_engine, pool

from store.migrate import sync_url
from store.models import load_metadata

config = context.config
target_metadata = load_metadata()


def _url() -> str:
    url = config.attributes.get("url")
    if url is None:
        from config.settings import Settings

        url = Settings().effective_database_url
    return sync_url(str(url))


def run_offline() -> None:
    """Print the SQL instead of running it (`--sql`)."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=_url().startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Apply migrations in one transaction per run."""
    url = _url()
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.startswith("sqlite"),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
