"""The complete schema: every table defined anywhere in the `store` package.

Several modules define tables on `store.base.Base` (the registry and audit log
here, the notification outbox in `store.outbox`, ...). Alembic and tests need
all of them, so this imports every module of the package rather than a list
that each new table would have to remember to extend.
"""

import importlib
import pkgutil

from sqlalchemy import MetaData

import store
from store.base import Base

# Modules that define no tables and must not be imported for their side effects.
_SKIP = frozenset({"migrate", "migrations"})


def load_metadata() -> MetaData:
    """`Base.metadata` with every table of the store package registered."""
    for module in pkgutil.iter_modules(store.__path__):
        if module.name not in _SKIP and not module.name.startswith("_"):
            importlib.import_module(f"store.{module.name}")
    return Base.metadata
