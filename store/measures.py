"""Measures a case applies to a key: the status change and its audit facts in one transaction.

    changed = await apply_measure(session, measure_input, now)   # inside run_write
    state = await key_state(session, key_id, changed, now)       # read back, fresh session

Each measure is keyed by its `event_id`: once that row is in the audit log the measure
has been applied, so running it again changes nothing and writes nothing new.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.effects import ApplyKeyMeasureInput, AuditFact, KeyMeasure, KeyStateResult
from domain.gateway import standing
from domain.keys import KeyStatus
from domain.registry import status_after, usable_permissions
from store.audit import append_facts
from store.models import ApiKey, AuditEntry
from store.registry import UnknownKey, view_of
from store.uow import lock_for_write

KEY_STATUS_CHANGED = "key.status_changed"
KEY_STATUS_UNCHANGED = "key.status_unchanged"  # the measure did not apply (e.g. already expired)
KEY_EXPIRY_READ_BACK = "key.expiry_read_back"


async def _recorded(session: AsyncSession, event_id: str) -> bool:
    query = select(AuditEntry.seq).where(AuditEntry.event_id == event_id)
    return (await session.scalar(query)) is not None


async def apply_measure(
    session: AsyncSession, request: ApplyKeyMeasureInput, now: datetime
) -> bool:
    """Change the key's status, write the request's facts and the change; True if it changed."""
    await lock_for_write(session)
    key = await session.get(ApiKey, request.key_id, with_for_update=True)
    if key is None:
        raise UnknownKey(f"key {request.key_id} is not registered")
    if await _recorded(session, request.event_id):
        await append_facts(session, request.facts, now)  # in case they came without the change
        return False
    before = KeyStatus(key.status)
    after = status_after(before, request.measure)
    changed = after is not before
    if changed:
        key.status, key.updated_at = after.value, now
        if after is KeyStatus.EXPIRED:
            key.expired_at = request.occurred_at
    change = AuditFact(
        event_id=request.event_id,
        event_type=KEY_STATUS_CHANGED if changed else KEY_STATUS_UNCHANGED,
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
    await append_facts(session, [*request.facts, change], now)
    return changed


async def key_state(
    session: AsyncSession, key_id: str, changed: bool, now: datetime
) -> KeyStateResult:
    """What the registry and the gateway say about the key now, read from the database."""
    key = (
        await session.scalars(
            select(ApiKey).where(ApiKey.key_id == key_id).execution_options(populate_existing=True)
        )
    ).one_or_none()
    if key is None:
        raise UnknownKey(f"key {key_id} is not registered")
    view = view_of(key)
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
