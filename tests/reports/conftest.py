"""Report tests read a real store on both backends (see tests.store.databases)."""

from tests.store.databases import database_url, store

__all__ = ["database_url", "store"]
