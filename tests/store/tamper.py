"""What someone with write access to the database might do to the audit log."""

from typing import Any

from sqlalchemy import Connection, text

from store.audit import row_hash
from store.port import Store


def lift_append_only(connection: Connection) -> None:
    """Remove the database's own guard first, as an attacker with DDL rights could."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        connection.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        connection.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))


async def execute(store: Store, *statements: tuple[str, dict[str, Any]]) -> None:
    """Run raw SQL against the audit log with its guard lifted."""

    def work(connection: Connection) -> None:
        lift_append_only(connection)
        for sql, params in statements:
            connection.execute(text(sql), params)

    await store.write(work)


async def row(store: Store, seq: int) -> dict[str, Any]:
    query = text("SELECT * FROM audit_log WHERE seq = :s")
    return await store.read(lambda c: dict(c.execute(query, {"s": seq}).mappings().one()))


async def renumber_from(store: Store, first: int, shift: int) -> None:
    """Move rows `first`.. by `shift` positions (in two steps, so keys never collide)."""
    await execute(
        store,
        ("UPDATE audit_log SET seq = seq + 1000000 WHERE seq >= :f", {"f": first}),
        ("UPDATE audit_log SET seq = seq - 1000000 + :d WHERE seq >= 1000000", {"d": shift}),
    )


def forged_hash(fields: dict[str, Any]) -> str:
    """The hash a careful forger computes for a row they write."""
    names = "seq event_id event_type case_id key_id actor occurred_at recorded_at payload prev_hash"
    return row_hash(**{name: fields[name] for name in names.split()})
