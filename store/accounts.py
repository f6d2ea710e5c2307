"""Key owners' contacts, read only by activities and the API.

    record = await store.write(lambda c: upsert_account(c, account_id=..., email=..., phone=...))
    record = await store.read(lambda c: get_account(c, account_id))    # AccountRecord | None

Contacts are checked and normalised by `domain.contacts` before they are written.
"""

from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict
from sqlalchemy import Connection, select

from domain.contacts import Locale, normalise_contacts
from domain.registry_audit import contacts_changed
from store.audit import append_facts
from store.models import Account, insert_into

_CONTACTS = (
    Account.account_id,
    Account.email,
    Account.phone,
    Account.locale,
    Account.erased_at,
)


class AccountErased(ValueError):
    """The account's contacts were erased; it takes no new ones (a new account id does)."""


class AccountRecord(BaseModel):
    """An account as the API and the notification activities see it."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    email: str
    phone: str  # both empty once erased
    locale: Locale
    erased_at: AwareDatetime | None = None  # store.erasure


def upsert_account(
    connection: Connection,
    *,
    account_id: str,
    email: str,
    phone: str,
    locale: str = "ko",
    now: datetime | None = None,
    actor: str = "keycase",
) -> AccountRecord:
    """Create the account or replace its contacts. Raises domain.contacts.InvalidContact.

    A change is a fact in the audit chain naming the fields that changed, never values.
    Raises AccountErased for an account whose contacts were erased."""
    email, phone = normalise_contacts(account_id, email, phone, locale)
    now = now or datetime.now(UTC)
    before = get_account(connection, account_id)
    if before is not None and before.erased_at is not None:
        raise AccountErased(f"the contacts of account {account_id} were erased")
    asked = {"email": email, "phone": phone, "locale": locale}
    changed = [f for f, value in asked.items() if before is None or getattr(before, f) != value]
    contacts = {"email": email, "phone": phone, "locale": locale, "updated_at": now}
    statement = insert_into(connection.dialect.name, Account).values(
        account_id=account_id, created_at=now, **contacts
    )
    # Never over an erasure that committed since the read above: no row comes back then.
    statement = statement.on_conflict_do_update(
        index_elements=[Account.account_id], set_=contacts, where=Account.erased_at.is_(None)
    )
    row = connection.execute(statement.returning(*_CONTACTS)).first()
    if row is None:
        raise AccountErased(f"the contacts of account {account_id} were erased")
    if changed:
        fact = contacts_changed(account_id, changed, before is None, actor, now)
        append_facts(connection, [fact], now)
    return AccountRecord.model_validate(row._asdict())


def get_account(connection: Connection, account_id: str) -> AccountRecord | None:
    """The account's contacts, or None."""
    row = connection.execute(select(*_CONTACTS).where(Account.account_id == account_id)).first()
    return AccountRecord.model_validate(row._asdict()) if row else None
