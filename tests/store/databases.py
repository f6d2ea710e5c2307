"""Database fixtures: every store test runs on SQLite and on PostgreSQL, each on a fresh schema.

Import `database_url` and `store` (the port, `store.port.Store`) into a test module (or a
conftest) to use them; a test looks at rows through `store.read` like any caller.
PostgreSQL runs get their own schema, so parallel test runs sharing one server never meet.
"""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio
from sqlalchemy import create_engine, make_url, text

from store.engine import open_store
from store.migrate import sync_url, upgrade
from store.port import Store

POSTGRES_ENV = "KEYCASE_TEST_POSTGRES_URL"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def postgres_url_or_skip() -> str:
    """The test server's URL, or skip saying how to get one."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is unset; .ci/run starts PostgreSQL and sets it")
    return url


def sqlite_database(folder: Path) -> str:
    """A migrated SQLite file in `folder`."""
    url = f"sqlite+aiosqlite:///{folder / 'keycase.db'}"
    upgrade(url)
    return url


def postgres_schema(base_url: str) -> tuple[str, str]:
    """A new empty schema on the server: (its name, a URL whose search_path points at it)."""
    schema = f"test_{uuid4().hex[:12]}"
    admin = create_engine(sync_url(base_url))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, url.render_as_string(hide_password=False)


def drop_postgres_schema(base_url: str, schema: str) -> None:
    admin = create_engine(sync_url(base_url))
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database on each backend."""
    if request.param == "sqlite":
        yield sqlite_database(tmp_path)
        return
    base = postgres_url_or_skip()
    schema, url = postgres_schema(base)
    try:
        upgrade(url)
        yield url
    finally:
        drop_postgres_schema(base, schema)


@pytest_asyncio.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """The store on the fresh database, closed after the test."""
    opened = open_store(database_url)
    try:
        yield opened
    finally:
        await opened.close()
