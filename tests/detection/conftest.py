"""Detection tests run on both store backends (see tests.store.databases)."""

from tests.store.databases import database_url, store

__all__ = ["database_url", "store"]
