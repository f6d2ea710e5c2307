"""Accounts: contacts validated on the way in, replaced on update."""

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.accounts import InvalidContact, get_account, upsert_account
from store.models import Account

Sessions = async_sessionmaker[AsyncSession]


async def test_account_is_created_then_updated(sessions: Sessions) -> None:
    async with sessions() as session:
        await upsert_account(
            session, account_id="acc-1", email="Kim@Example.KR", phone="+821012345678"
        )
        await session.commit()
    async with sessions() as session:
        await upsert_account(
            session, account_id="acc-1", email="kim@example.kr", phone="+14155552671", locale="en"
        )
        await session.commit()
    async with sessions() as session:
        record = await get_account(session, "acc-1")
        row = await session.get(Account, "acc-1")
    assert record is not None and row is not None
    assert (record.email, record.phone, record.locale) == ("kim@example.kr", "+14155552671", "en")
    assert row.updated_at >= row.created_at


async def test_locale_defaults_to_korean(sessions: Sessions) -> None:
    async with sessions() as session:
        record = await upsert_account(
            session, account_id="acc-2", email="a@b.co", phone="+821012345678"
        )
    assert record.locale == "ko"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "01012345678"),  # national form, not E.164
        ("phone", "+82 10 1234 5678"),
        ("phone", "+8200000"),  # shaped like E.164 but not a number
        ("email", "not-an-address"),
        ("email", "two@@example.com"),
        ("email", "space in@example.com"),
        ("locale", "ja"),
        ("account_id", "has space"),
    ],
)
async def test_invalid_contacts_are_refused(sessions: Sessions, field: str, value: str) -> None:
    fields = {"account_id": "acc-3", "email": "a@b.co", "phone": "+821012345678", "locale": "ko"}
    fields[field] = value
    async with sessions() as session:
        with pytest.raises(InvalidContact):
            await upsert_account(
                session,
                account_id=fields["account_id"],
                email=fields["email"],
                phone=fields["phone"],
                locale=fields["locale"],
            )


async def test_unknown_account_reads_as_none(sessions: Sessions) -> None:
    async with sessions() as session:
        assert await get_account(session, "nobody") is None
