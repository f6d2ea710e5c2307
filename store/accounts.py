"""Key owners' contacts, read only by activities and the API, and their erasure.

    record = await store.write(lambda c: upsert_account(c, account_id=..., email=..., phone=...))
    record = await store.read(lambda c: get_account(c, account_id))    # AccountRecord | None

Contacts are checked and normalised by `domain.contacts` before they are written.

Erasing an account's contacts (PIPA): the account keeps its id, its contacts go.

    erased = await store.write(lambda c: erase_account(c, account_id, actor, now))

Refused (`CasesStillOpen`) while a case of one of the account's keys is open, or an alert
for one is still being handed to its case. Otherwise the e-mail and phone become empty,
`erased_at` is set, and the chain gets one `account.erased` fact (ids only); a second
erasure changes and records nothing. What else held contacts, and what becomes of it:

- the audit chain never did: `store.audit` refuses payload keys named like contacts
  and provider texts are masked on their way there (`domain.masking`), so no row changes
  and the chain still verifies;
- the outbox's recipient hints (a masked address) of the account's cases are cleared and
  its provider error texts masked, as the cases themselves already show them;
- the gateways' change feed (`store.registry`) carries a key's view (account id,
  status, permissions, whitelist), no contacts; erasure changes no view, so it adds no row.

No notice reaches the account after this: a notice finds no contact on either channel, and
a warning that reaches nobody leaves its case OWNER_UNREACHABLE for an officer to decide.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict
from sqlalchemy import Connection, select, update

from domain.audit_events import EventType
from domain.contacts import Locale, normalise_contacts
from domain.masking import mask_optional
from domain.registry_audit import account_erased, contacts_changed
from store.audit import append_facts
from store.intake import AlertIntakeRow
from store.models import Account, ApiKey, AuditEntry, insert_into
from store.outbox import OutboxRow

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
    erased_at: AwareDatetime | None = None  # store.accounts


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


class CasesStillOpen(Exception):
    """The account has open cases; its contacts may be needed for their notices."""

    def __init__(self, account_id: str, case_ids: Sequence[str]) -> None:
        shown = ", ".join(case_ids[:5]) + (", …" if len(case_ids) > 5 else "")
        super().__init__(
            f"account {account_id} has {len(case_ids)} open case(s) ({shown});"
            " its contacts can be erased once they are closed"
        )
        self.case_ids = list(case_ids)


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: the account, its keys, when, and whether this call erased it."""

    account_id: str
    key_ids: list[str]
    erased_at: datetime
    erased_now: bool  # False: it had been erased before, nothing changed


def erase_account(
    connection: Connection, account_id: str, actor: str, now: datetime
) -> Erasure | None:
    """Erase the account's contacts; None if there is no such account. Raises CasesStillOpen."""
    locked = select(Account.erased_at).where(Account.account_id == account_id).with_for_update()
    row = connection.execute(locked).first()
    if row is None:
        return None
    keys = account_keys(connection, account_id)
    if row.erased_at is not None:
        return Erasure(account_id, keys, row.erased_at, erased_now=False)
    cases = cases_of(connection, keys)
    still_open = open_cases(connection, keys, cases)
    if still_open:
        raise CasesStillOpen(account_id, still_open)
    connection.execute(
        update(Account)
        .where(Account.account_id == account_id)
        .values(email="", phone="", erased_at=now, updated_at=now)
    )
    _forget_recipients(connection, cases)
    append_facts(connection, [account_erased(account_id, keys, len(cases), actor, now)], now)
    return Erasure(account_id, keys, now, erased_now=True)


def account_keys(connection: Connection, account_id: str) -> list[str]:
    """The ids of the account's keys."""
    query = select(ApiKey.key_id).where(ApiKey.account_id == account_id).order_by(ApiKey.key_id)
    return list(connection.scalars(query))


def cases_of(connection: Connection, key_ids: Sequence[str]) -> list[str]:
    """Every case the keys had: opened in the audit chain, or settled by intake."""
    if not key_ids:
        return []
    opened = select(AuditEntry.case_id).where(
        AuditEntry.event_type == EventType.CASE_OPENED, AuditEntry.key_id.in_(key_ids)
    )
    settled = select(AlertIntakeRow.case_id).where(
        AlertIntakeRow.key_id.in_(key_ids), AlertIntakeRow.case_id.is_not(None)
    )
    found = set(connection.scalars(opened)) | set(connection.scalars(settled))
    return sorted(case_id for case_id in found if case_id)


def open_cases(connection: Connection, key_ids: Sequence[str], cases: Sequence[str]) -> list[str]:
    """The cases not closed yet, and any key with an alert still on its way to a case."""
    closed = set(
        connection.scalars(
            select(AuditEntry.case_id).where(
                AuditEntry.event_type == EventType.CASE_CLOSED, AuditEntry.case_id.in_(cases)
            )
        )
    )
    handing = connection.scalars(
        select(AlertIntakeRow.key_id).where(
            AlertIntakeRow.key_id.in_(key_ids), AlertIntakeRow.case_id.is_(None)
        )
    )
    pending = [f"a case of key {key_id} that is opening" for key_id in sorted(set(handing))]
    return [case_id for case_id in cases if case_id not in closed] + pending


def _forget_recipients(connection: Connection, cases: Sequence[str]) -> None:
    rows = connection.execute(
        select(OutboxRow.outbox_id, OutboxRow.error).where(OutboxRow.case_id.in_(cases))
    ).all()
    for outbox_id, error in rows:
        connection.execute(
            update(OutboxRow)
            .where(OutboxRow.outbox_id == outbox_id)
            .values(recipient_hint=None, error=mask_optional(error, outbox_id))
        )
