"""Measures a case applies to a key: the status change and its audit facts in one transaction.

    changed = apply_measure_now(connection, measure_input, now)   # in a write transaction
    state = key_state_now(connection, key_id, changed, now)       # read back after the commit

Both are plain Core statements on a `Connection`: the worker runs them in the event loop
on SQLite and in an async session elsewhere (`store.core_work`). Each measure is keyed by
its `event_id`: once that row is in the audit log the measure has been applied, so running
it again changes nothing and writes nothing new.
"""

from datetime import datetime

from sqlalchemy import Connection, select, update

from domain.effects import ApplyKeyMeasureInput, AuditFact, KeyMeasure, KeyStateResult
from domain.gateway import KeyView, standing
from domain.keys import KeyStatus, Permission
from domain.registry import status_after, usable_permissions
from store.audit import append_facts_now
from store.models import ApiKey, AuditEntry
from store.registry import UnknownKey

KEY_STATUS_CHANGED = "key.status_changed"
KEY_STATUS_UNCHANGED = "key.status_unchanged"  # the measure did not apply (e.g. already expired)
KEY_EXPIRY_READ_BACK = "key.expiry_read_back"


def apply_measure_now(connection: Connection, request: ApplyKeyMeasureInput, now: datetime) -> bool:
    """Change the key's status, write the request's facts and the change; True if it changed.

    The caller holds the write transaction (on SQLite, its lock).
    """
    # FOR UPDATE on PostgreSQL: concurrent attempts of one measure queue on the key's row.
    status = connection.scalar(
        select(ApiKey.status).where(ApiKey.key_id == request.key_id).with_for_update()
    )
    if status is None:
        raise UnknownKey(f"key {request.key_id} is not registered")
    if connection.scalar(select(AuditEntry.seq).where(AuditEntry.event_id == request.event_id)):
        append_facts_now(connection, request.facts, now)  # in case they came without the change
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
    append_facts_now(connection, [*request.facts, _change(request, before, after)], now)
    return changed


def _change(request: ApplyKeyMeasureInput, before: KeyStatus, after: KeyStatus) -> AuditFact:
    return AuditFact(
        event_id=request.event_id,
        event_type=KEY_STATUS_CHANGED if after is not before else KEY_STATUS_UNCHANGED,
        case_id=request.case_id,
        key_id=request.key_id,
        actor=request.actor,
        occurred_at=request.occurred_at,
        payload={
            "measure": request.measure.value,
            "from": before.value,
            "to": after.value,
            "reason": request.reason,
        },
    )


def key_state_now(
    connection: Connection, key_id: str, changed: bool, now: datetime
) -> KeyStateResult:
    """What the registry and the gateway say about the key now, read from the database."""
    key = connection.execute(
        select(
            ApiKey.account_id,
            ApiKey.status,
            ApiKey.permissions,
            ApiKey.allowed_ips,
            ApiKey.expires_at,
            ApiKey.expired_at,
        ).where(ApiKey.key_id == key_id)
    ).first()
    if key is None:
        raise UnknownKey(f"key {key_id} is not registered")
    view = KeyView(
        key_id=key_id,
        account_id=key.account_id,
        status=KeyStatus(key.status),
        permissions=tuple(Permission(p) for p in key.permissions),
        allowed_ips=tuple(key.allowed_ips),
        expires_at=key.expires_at,
    )
    return KeyStateResult(
        key_id=key_id,
        status=view.status,
        permissions=usable_permissions(view.permissions, view.status),
        allowed_ips=list(view.allowed_ips),
        expired_at=key.expired_at,
        gateway_reason=standing(view, now).value,
        changed=changed,
    )


def read_back_fact(request: ApplyKeyMeasureInput, state: KeyStateResult) -> AuditFact | None:
    """The audit fact recording what an expiry left behind (None for other measures)."""
    if request.measure is not KeyMeasure.EXPIRE:
        return None
    return AuditFact(
        event_id=f"{request.event_id}:read-back",
        event_type=KEY_EXPIRY_READ_BACK,
        case_id=request.case_id,
        key_id=request.key_id,
        actor=request.actor,
        occurred_at=request.occurred_at,
        payload={
            "status": state.status.value,
            "usable_permissions": [p.value for p in state.permissions],
            "gateway_reason": state.gateway_reason,
            "expired_at": state.expired_at,
        },
    )
