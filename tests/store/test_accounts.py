"""Accounts: contacts validated on the way in, replaced on update."""

import pytest
from sqlalchemy import select

from domain.contacts import InvalidContact
from store.accounts import get_account, upsert_account
from store.models import Account
from store.port import Store


async def test_account_is_created_then_updated(store: Store) -> None:
    await store.write(
        lambda c: upsert_account(
            c, account_id="acc-1", email="Kim@Example.KR", phone="+821012345678"
        )
    )
    await store.write(
        lambda c: upsert_account(
            c, account_id="acc-1", email="kim@example.kr", phone="+14155552671", locale="en"
        )
    )
    record = await store.read(lambda c: get_account(c, "acc-1"))
    row = await store.read(
        lambda c: c.execute(select(Account.created_at, Account.updated_at)).one()
    )
    assert record is not None
    assert (record.email, record.phone, record.locale) == ("kim@example.kr", "+14155552671", "en")
    assert row.updated_at >= row.created_at


async def test_locale_defaults_to_korean(store: Store) -> None:
    record = await store.write(
        lambda c: upsert_account(c, account_id="acc-2", email="a@b.co", phone="+821012345678")
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
async def test_invalid_contacts_are_refused(store: Store, field: str, value: str) -> None:
    fields = {"account_id": "acc-3", "email": "a@b.co", "phone": "+821012345678", "locale": "ko"}
    fields[field] = value
    with pytest.raises(InvalidContact):
        await store.write(
            lambda c: upsert_account(
                c,
                account_id=fields["account_id"],
                email=fields["email"],
                phone=fields["phone"],
                locale=fields["locale"],
            )
        )
    assert await store.read(lambda c: get_account(c, fields["account_id"])) is None


async def test_unknown_account_reads_as_none(store: Store) -> None:
    assert await store.read(lambda c: get_account(c, "nobody")) is None
