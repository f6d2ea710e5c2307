"""Key owners' contacts: validated on the way in, read only by activities and the API.

record = await upsert_account(session, account_id=..., email=..., phone="+821012345678")
record = await get_account(session, account_id)   # AccountRecord | None
record = account_now(connection, account_id)        # the same on a sync connection
"""

import re
from datetime import UTC, datetime
from typing import Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from sqlalchemy import Connection, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.alerts import AccountId
from store.models import Account

Locale = Literal["ko", "en"]
LOCALES: tuple[Locale, ...] = ("ko", "en")

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$")
_ACCOUNT_ID = TypeAdapter(AccountId)


class InvalidContact(ValueError):
    """An account field that cannot be used to reach its owner."""


class AccountRecord(BaseModel):
    """An account as the API and the notification activities see it."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    account_id: str
    email: str
    phone: str
    locale: Locale


def normalise_phone(phone: str) -> str:
    """The number itself when it is a valid E.164 number (`+` and digits only)."""
    if not _E164.match(phone):
        raise InvalidContact(f"phone {phone!r} is not in E.164 form, e.g. +821012345678")
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:  # e.g. a country code that does not exist
        raise InvalidContact(f"phone {phone!r} is not a valid number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact(f"phone {phone!r} is not a valid number")
    return phone


def normalise_email(email: str) -> str:
    """The address with its domain in lower case; refuses anything not shaped like one."""
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidContact(f"email {email!r} is not an e-mail address")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


async def upsert_account(
    session: AsyncSession,
    *,
    account_id: str,
    email: str,
    phone: str,
    locale: str = "ko",
    now: datetime | None = None,
) -> AccountRecord:
    """Create the account or replace its contacts; the caller commits."""
    try:
        _ACCOUNT_ID.validate_python(account_id)
    except ValidationError:
        raise InvalidContact(f"account id {account_id!r} is not valid") from None
    if locale not in LOCALES:
        raise InvalidContact(f"locale {locale!r} is not one of {', '.join(LOCALES)}")
    now = now or datetime.now(UTC)
    email, phone = normalise_email(email), normalise_phone(phone)
    account = await session.get(Account, account_id)
    if account is None:
        account = Account(account_id=account_id, created_at=now)
        session.add(account)
    account.email, account.phone, account.locale, account.updated_at = email, phone, locale, now
    await session.flush()
    return AccountRecord.model_validate(account)


def _contacts(account_id: str) -> Select[str, str, str, str]:
    row = Account
    return select(row.account_id, row.email, row.phone, row.locale).where(
        row.account_id == account_id
    )


async def get_account(session: AsyncSession, account_id: str) -> AccountRecord | None:
    """The account's contacts, or None."""
    row = (await session.execute(_contacts(account_id))).first()
    return AccountRecord.model_validate(row._asdict()) if row else None


def account_now(connection: Connection, account_id: str) -> AccountRecord | None:
    """`get_account` on a sync connection (see store.core_work)."""
    row = connection.execute(_contacts(account_id)).first()
    return AccountRecord.model_validate(row._asdict()) if row else None
