"""The store's base and tables: accounts, the key registry, the audit chain, the access log.

Every table derives from `Base` (stable constraint names, so Alembic's migrations are the
same on SQLite and PostgreSQL). Tables of one room live beside its statements (the
outbox in `store.outbox`, ...); `load_metadata` gathers them all for Alembic and tests.
Column sizes follow the domain's identifier patterns; statuses and locales are
checked by the database too, so a row written by hand cannot hold a value the
code would refuse.
"""

import importlib
import pkgutil
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def insert_into(dialect: str, model: type[Base]) -> PgInsert | SqliteInsert:
    """An INSERT that can take ON CONFLICT … and RETURNING, spelled for either backend."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-numbers INTEGER PRIMARY KEY columns; PostgreSQL gets a bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")

LOCALES = ("ko", "en")
KEY_STATUSES = ("ACTIVE", "MONITORED", "RESTRICTED", "EXPIRED")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Account(Base):
    """A key owner's contacts; only activities and the API read these."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(_in("locale", LOCALES), name="locale"),)

    account_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(16))  # E.164, e.g. +821012345678
    locale: Mapped[str] = mapped_column(String(2), default="ko")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set once the contacts were erased (store.accounts): e-mail and phone are empty since.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """One exchange API key in the registry; its secret is never stored, at most a hash."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(_in("status", KEY_STATUSES), name="status"),)

    key_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    exchange: Mapped[str] = mapped_column(String(32))
    # What the owner registered; the status decides how much of it is usable now.
    permissions: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    # Normalised addresses and CIDR blocks (see domain.network), at most ten.
    allowed_ips: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # scheduled end of life
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when it was expired
    secret_hash: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One fact in the append-only audit chain.

    `seq` is assigned by the writer (last + 1) rather than by the database, and
    both `seq` and `prev_hash` are unique: two writers that read the same head
    cannot both commit, so the chain never forks.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(300), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(200), index=True)
    key_id: Mapped[str] = mapped_column(String(100), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Canonical JSON text: exactly the bytes that were hashed.
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    row_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AccessLogEntry(Base):
    """One gateway decision, kept as evidence for key-sharing detection."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_key_id_decided_at", "key_id", "decided_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str | None] = mapped_column(String(100))  # None for unknown keys
    ip: Mapped[str] = mapped_column(String(64))  # normalised when it parsed, else as given
    permission: Mapped[str] = mapped_column(String(16))
    allowed: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # What the gateway told about the client (optional), and the network detection counts.
    user_agent: Mapped[str | None] = mapped_column(String(256))
    tls_fingerprint: Mapped[str | None] = mapped_column(String(36))  # JA4
    network: Mapped[str | None] = mapped_column(String(64))  # domain.detection.networks


class KeyChange(Base):
    """One change of a key as the gateway sees it, in commit order: the gateways' change feed.

    Written in the transaction that changed the key (registration, whitelist, status), with
    the key's whole gateway view, so a replica applies each row without reading the key.
    `seq` is assigned by the writer under a lock held to commit (last + 1), so a reader that
    has seen `seq` n has seen every change before it.
    """

    __tablename__ = "key_changes"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key_id: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str] = mapped_column(String(100))
    exchange: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    permissions: Mapped[list[str]] = mapped_column(JSON)
    allowed_ips: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccessReport(Base):
    """A batch of decisions a gateway client made itself and reported: recorded once."""

    __tablename__ = "access_reports"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    decisions: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Modules that define no tables and must not be imported for their side effects.
_NO_TABLES = frozenset({"migrate", "migrations"})


def load_metadata() -> MetaData:
    """`Base.metadata` with every table of the store package registered.

    Imports every module of the package rather than a list that each new table would
    have to remember to extend.
    """
    import store

    for module in pkgutil.iter_modules(store.__path__):
        if module.name not in _NO_TABLES and not module.name.startswith("_"):
            importlib.import_module(f"store.{module.name}")
    return Base.metadata
