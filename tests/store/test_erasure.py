"""Erasing an account's contacts, on both backends: once its cases are closed, the id and
keys stay, the contacts go from every table, and the audit chain still verifies."""

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Connection, MetaData, insert, select

from domain.audit_events import EventType
from domain.registry_audit import RegistryEvent, account_subject
from store.accounts import AccountErased, CasesStillOpen, erase_account, get_account, upsert_account
from store.audit import append_facts, audit_rows, verify
from store.intake import AlertIntake
from store.models import ApiKey
from store.outbox import OutboxRow
from store.port import Store
from tests.store.factories import T0, add_key, fact

EMAIL, PHONE = "owner@example.com", "+821012345678"
LATER = T0 + timedelta(days=40)
CASE = "key-1.run-1"


async def _case(store: Store, closed: bool) -> None:
    facts = [fact(f"{CASE}:opened", EventType.CASE_OPENED, account_id="acc-1")]
    if closed:
        facts.append(fact(f"{CASE}:closed", EventType.CASE_CLOSED, stage="DISMISSED"))
    await store.write(lambda c: append_facts(c, facts, T0))


async def test_erasure_empties_the_contacts_keeps_id_and_keys_and_records_one_fact(
    store: Store,
) -> None:
    await add_key(store)
    await _case(store, closed=True)

    first = await store.write(lambda c: erase_account(c, "acc-1", "root", LATER))
    again = await store.write(lambda c: erase_account(c, "acc-1", "root", LATER))
    account = await store.read(lambda c: get_account(c, "acc-1"))
    keys = await store.read(lambda c: list(c.scalars(select(ApiKey.key_id))))
    rows = await store.read(lambda c: audit_rows(c, key_id=account_subject("acc-1")))
    report = await store.scan(verify)

    assert first is not None and first.erased_now and first.key_ids == ["key-1"]
    assert again is not None and not again.erased_now and again.erased_at == LATER
    assert account is not None
    assert (account.account_id, account.email, account.phone) == ("acc-1", "", "")
    assert account.erased_at == LATER
    assert keys == ["key-1"]
    erased = [r for r in rows if r.event_type == RegistryEvent.ACCOUNT_ERASED]
    assert len(erased) == 1  # the second erasure recorded nothing
    assert (erased[0].actor, erased[0].payload) == (
        "root",
        {"account_id": "acc-1", "keys": ["key-1"], "closed_cases": 1},
    )
    assert report.ok


async def test_an_open_case_refuses_erasure_and_changes_nothing(store: Store) -> None:
    await add_key(store)
    await _case(store, closed=False)

    with pytest.raises(CasesStillOpen) as refused:
        await store.write(lambda c: erase_account(c, "acc-1", "root", LATER))
    account = await store.read(lambda c: get_account(c, "acc-1"))
    rows = await store.read(lambda c: audit_rows(c, key_id=account_subject("acc-1")))

    assert refused.value.case_ids == [CASE]
    assert f"1 open case(s) ({CASE})" in str(refused.value)
    assert account is not None and (account.email, account.erased_at) == (EMAIL, None)
    assert RegistryEvent.ACCOUNT_ERASED not in {r.event_type for r in rows}


async def test_an_alert_still_on_its_way_to_a_case_refuses_erasure(store: Store) -> None:
    await add_key(store)
    await store.write(lambda c: AlertIntake(c).claim("alert-1", "key-1", T0))

    with pytest.raises(CasesStillOpen) as refused:
        await store.write(lambda c: erase_account(c, "acc-1", "root", LATER))

    assert refused.value.case_ids == ["a case of key key-1 that is opening"]


async def test_a_case_settled_by_intake_but_not_yet_opened_counts_as_open(store: Store) -> None:
    await add_key(store)

    def settle(connection: Connection) -> None:
        intake = AlertIntake(connection)
        intake.claim("alert-1", "key-1", T0)
        intake.settle("alert-1", "key-1", CASE, T0)

    await store.write(settle)

    with pytest.raises(CasesStillOpen):
        await store.write(lambda c: erase_account(c, "acc-1", "root", LATER))


async def test_an_erased_account_takes_no_new_contacts(store: Store) -> None:
    await add_key(store)
    await store.write(lambda c: erase_account(c, "acc-1", "root", LATER))

    with pytest.raises(AccountErased):
        await store.write(lambda c: upsert_account(c, account_id="acc-1", email=EMAIL, phone=PHONE))
    account = await store.read(lambda c: get_account(c, "acc-1"))

    assert account is not None and (account.email, account.phone) == ("", "")


async def test_an_unknown_account_is_not_erased(store: Store) -> None:
    assert await store.write(lambda c: erase_account(c, "acc-none", "root", LATER)) is None


async def test_no_table_holds_the_contacts_after_erasure(store: Store) -> None:
    await add_key(store)
    await store.write(
        lambda c: upsert_account(c, account_id="acc-1", email=EMAIL, phone="+821098765432")
    )
    await _case(store, closed=True)

    sms = _outbox_row("sms", hint="+82***5432", error="21211: +821098765432 is not valid")
    outbox = _outbox(sms)

    await store.write(outbox)

    await store.write(lambda c: erase_account(c, "acc-1", "root", LATER))
    dumped = await store.read(_every_row)

    for contact in (EMAIL, "821098765432", "821012345678", "example.com"):
        assert contact not in dumped, contact
    assert "is not valid" in dumped  # the error stays, masked


def _outbox_row(channel: str, hint: str, error: str | None = None) -> dict[str, object]:
    """An outbox row of the account's case after an attempt (as `send_notice` leaves it)."""
    return {
        "outbox_id": f"ob-{channel}",
        "case_id": CASE,
        "notice_id": "warning",
        "channel": channel,
        "notice": "warning",
        "status": "failed" if error else "sent",
        "error": error,
        "attempts": 1,
        "recipient_hint": hint,
        "body": "Your API key ...",
        "created_at": T0,
        "updated_at": T0,
    }


def _outbox(row: dict[str, object]) -> Callable[[Connection], None]:
    def write(connection: Connection) -> None:
        connection.execute(insert(OutboxRow).values(**row))

    return write


def _every_row(connection: Connection) -> str:
    """Every row of every table the database has (reflected: what is there, not modelled)."""
    tables = MetaData()
    tables.reflect(connection)
    rows = [[list(row) for row in connection.execute(select(t))] for t in tables.sorted_tables]
    return json.dumps(rows, default=str)


async def test_the_outbox_rows_of_the_account_lose_their_hints(store: Store) -> None:
    await add_key(store)
    await _case(store, closed=True)

    outbox = _outbox(_outbox_row("email", hint="o***@example.com"))

    await store.write(outbox)
    await store.write(lambda c: erase_account(c, "acc-1", "root", LATER))
    hints = await store.read(lambda c: list(c.scalars(select(OutboxRow.recipient_hint))))

    assert hints == [None]
