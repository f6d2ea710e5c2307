"""Registry changes on both backends are facts in the chain: actor, before and after,
never the contacts, and a repeat that changes nothing records nothing."""

import json
from datetime import timedelta

from sqlalchemy import Connection

from domain.registry_audit import account_subject
from store.accounts import upsert_account
from store.audit import audit_rows, verify
from store.port import Store
from store.registry import register_key, replace_allowed_ips
from tests.store.factories import T0

EMAIL, PHONE = "owner@example.com", "+821012345678"


async def _account(store: Store, phone: str = PHONE, at_seconds: int = 0) -> None:
    at = T0 + timedelta(seconds=at_seconds)
    await store.write(
        lambda c: upsert_account(
            c, account_id="acct-r", email=EMAIL, phone=phone, now=at, actor="root"
        )
    )


async def test_contacts_changes_record_which_fields_never_their_values(store: Store) -> None:
    await _account(store)
    await _account(store, at_seconds=1)  # the same contacts again
    await _account(store, phone="+821098765432", at_seconds=2)

    rows = await store.read(lambda c: audit_rows(c, key_id=account_subject("acct-r")))

    assert [(r.actor, r.payload["created"], r.payload["fields"]) for r in rows] == [
        ("root", True, ["email", "locale", "phone"]),
        ("root", False, ["phone"]),
    ]
    stored = json.dumps([r.model_dump(mode="json") for r in rows])
    assert "example.com" not in stored and "8210" not in stored


async def test_registration_and_whitelist_changes_carry_actor_before_and_after(
    store: Store,
) -> None:
    await _account(store)

    def register(connection: Connection) -> object:
        return register_key(
            connection,
            key_id="key-r",
            account_id="acct-r",
            exchange="upbit",
            permissions=["read", "trade"],
            allowed_ips=["203.0.113.0/24"],
            now=T0,
            actor="root",
        )

    await store.write(register)
    await store.write(register)  # a repeat
    later = T0 + timedelta(minutes=1)
    new_ips = ["198.51.100.7"]
    await store.write(lambda c: replace_allowed_ips(c, "key-r", new_ips, later, actor="ops"))
    await store.write(lambda c: replace_allowed_ips(c, "key-r", new_ips, later, actor="ops"))

    rows = await store.read(lambda c: audit_rows(c, key_id="key-r"))

    assert [(r.event_type, r.actor) for r in rows] == [
        ("key.registered", "root"),
        ("key.whitelist_replaced", "ops"),
    ]
    assert rows[0].payload["before"] is None
    assert rows[0].payload["after"]["allowed_ips"] == ["203.0.113.0/24"]
    assert rows[1].payload == {"before": ["203.0.113.0/24"], "after": ["198.51.100.7"]}
    assert (await store.scan(verify)).ok
