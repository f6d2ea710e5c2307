"""What someone with write access to the database might do to the audit log."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.audit_chain import row_hash

Sessions = async_sessionmaker[AsyncSession]


async def lift_append_only(session: AsyncSession) -> None:
    """Remove the database's own guard first, as an attacker with DDL rights could."""
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        await session.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        await session.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))


async def execute(sessions: Sessions, *statements: tuple[str, dict[str, Any]]) -> None:
    """Run raw SQL against the audit log with its guard lifted."""
    async with sessions() as session:
        await lift_append_only(session)
        for sql, params in statements:
            await session.execute(text(sql), params)
        await session.commit()


async def row(sessions: Sessions, seq: int) -> dict[str, Any]:
    async with sessions() as session:
        found = await session.execute(text("SELECT * FROM audit_log WHERE seq = :s"), {"s": seq})
        return dict(found.mappings().one())


async def renumber_from(sessions: Sessions, first: int, shift: int) -> None:
    """Move rows `first`.. by `shift` positions (in two steps, so keys never collide)."""
    await execute(
        sessions,
        ("UPDATE audit_log SET seq = seq + 1000000 WHERE seq >= :f", {"f": first}),
        ("UPDATE audit_log SET seq = seq - 1000000 + :d WHERE seq >= 1000000", {"d": shift}),
    )


def forged_hash(fields: dict[str, Any]) -> str:
    """The hash a careful forger computes for a row they write."""
    names = "seq event_id event_type case_id key_id actor occurred_at recorded_at payload prev_hash"
    return row_hash(**{name: fields[name] for name in names.split()})
