"""Detection tests run on both store backends (see tests.store.databases)."""

from tests.store.databases import database_url, sessions

__all__ = ["database_url", "sessions"]
