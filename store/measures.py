"""Measures a case applies to a key: the status change and its audit facts in one transaction.

    changed = await store.write(lambda c: apply_measure(c, measure_input, now))
    state = await store.read(lambda c: key_state(c, key_id, changed, now))   # read back

Each measure is keyed by its `event_id`: once that row is in the audit log the measure has
been applied, so running it again changes nothing and writes nothing new. The rule (which
status follows) is `domain.registry.status_after`; the facts are `domain.audit_events`'.
"""

from datetime import datetime

from sqlalchemy import Connection, select, update

from domain.activity_io import ApplyKeyMeasureInput, KeyStateResult
from domain.audit_events import key_status
from domain.gateway import KeyView, standing
from domain.keys import KeyStatus
from domain.registry import status_after
from store.audit import append_facts, recorded_event_ids
from store.key_changes import record_change
from store.models import ApiKey
from store.registry import UnknownKey, get_key


def apply_measure(connection: Connection, request: ApplyKeyMeasureInput, now: datetime) -> bool:
    """Change the key's status, write the request's facts and the change; True if it changed."""
    # FOR UPDATE on PostgreSQL: concurrent attempts of one measure queue on the key's row.
    status = connection.scalar(
        select(ApiKey.status).where(ApiKey.key_id == request.key_id).with_for_update()
    )
    if status is None:
        raise UnknownKey(f"key {request.key_id} is not registered")
    if recorded_event_ids(connection, [request.event_id]):
        append_facts(connection, request.facts, now)  # in case they came without the change
        return False
    before = KeyStatus(status)
    after = status_after(before, request.measure)
    changed = after is not before
    if changed:
        expired = {"expired_at": request.occurred_at} if after is KeyStatus.EXPIRED else {}
        connection.execute(
            update(ApiKey)
            .where(ApiKey.key_id == request.key_id)
            .values(status=after.value, updated_at=now, **expired)
        )
        record_change(connection, request.key_id, now)
    append_facts(connection, [*request.facts, key_status(request, before, after)], now)
    return changed


def key_state(connection: Connection, key_id: str, changed: bool, now: datetime) -> KeyStateResult:
    """What the registry and the gateway say about the key now, read from the database."""
    key = get_key(connection, key_id)
    if key is None:
        raise UnknownKey(f"key {key_id} is not registered")
    view = KeyView(
        key_id=key_id,
        account_id=key.account_id,
        status=key.status,
        permissions=tuple(key.permissions),
        allowed_ips=tuple(key.allowed_ips),
        expires_at=key.expires_at,
        exchange=key.exchange,
    )
    return KeyStateResult(
        key_id=key_id,
        status=key.status,
        permissions=key.usable_permissions,
        allowed_ips=key.allowed_ips,
        expired_at=key.expired_at,
        gateway_reason=standing(view, now).value,
        changed=changed,
    )
