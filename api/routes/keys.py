"""The key registry: registration and whitelists (admin), status (officers, auditors),
and the gateway's question whether a key may be used from an address."""

import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.deps import Admin, Gateway, Reader, RunningPolicy, StoreDep, WhitelistLimits
from api.errors import ApiError
from api.rate_limit import limited
from api.schemas import AllowedIpsIn, AuthorizeIn, AuthorizeOut, KeyIn
from api.scope import ScopedKeyId, sees, unknown_key
from domain.alerts import KeyId
from domain.network import InvalidWhitelist
from domain.registry import KeyConflict
from observability.metrics import GATEWAY_DECISION_SECONDS, GATEWAY_DECISIONS
from store.access import decide_access, key_view
from store.appeals import ReplacementRefused, register_replacement
from store.registry import (
    KeyRecord,
    UnknownAccount,
    UnknownKey,
    get_key,
    register_key,
    replace_allowed_ips,
)

router = APIRouter(prefix="/v1/keys", tags=["keys"])

KeyIdPath = Annotated[KeyId, Path(description="the key's opaque id")]


@router.post("", status_code=201, response_model=KeyRecord)
async def register(
    body: KeyIn, caller: Admin, store: StoreDep, limits: WhitelistLimits, policy: RunningPolicy
) -> KeyRecord:
    """Register a key; repeating the same registration changes nothing.

    With `replaces`, the key replaces an expired one whose appeal was upheld, once its
    cool-down has passed; otherwise 409 saying why not."""
    if not sees(caller, body.exchange):
        raise ApiError(403, "forbidden", "this token does not cover that exchange")
    unknown = policy.exchange_problem(body.exchange)
    if unknown is not None:
        raise ApiError(422, "unknown_exchange", unknown)
    widest = limits.widest()
    registration = body.model_dump(exclude={"replaces"})
    replaces = body.replaces
    try:
        if replaces is None:
            return await store.write(
                lambda c: register_key(c, **registration, widest=widest, actor=caller.name)
            )
        now = datetime.now(UTC)
        return await store.write(
            lambda c: register_replacement(
                c, replaces=replaces, now=now, widest=widest, actor=caller.name, **registration
            )
        )
    except ReplacementRefused as error:
        raise ApiError(409, "replacement_refused", str(error)) from None
    except InvalidWhitelist as error:
        raise ApiError(422, "invalid_allowed_ips", str(error)) from None
    except UnknownAccount as error:
        raise ApiError(422, "unknown_account", str(error)) from None
    except KeyConflict as error:
        raise ApiError(409, "key_conflict", str(error)) from None


@router.get("/{key_id}", response_model=KeyRecord)
async def status(key_id: KeyIdPath, caller: Reader, store: StoreDep) -> KeyRecord:
    """The key's status, permissions and allowed IPs."""
    record = await store.read(lambda c: get_key(c, key_id))
    if record is None or not sees(caller, record.exchange):
        raise unknown_key(key_id)
    return record


@router.put("/{key_id}/allowed-ips", response_model=KeyRecord)
async def replace_whitelist(
    key_id: ScopedKeyId,
    body: AllowedIpsIn,
    caller: Admin,
    store: StoreDep,
    limits: WhitelistLimits,
) -> KeyRecord:
    """Replace the key's whitelist (addresses or CIDR blocks, at most ten)."""
    widest = limits.widest()
    try:
        return await store.write(
            lambda c: replace_allowed_ips(
                c, key_id, body.allowed_ips, widest=widest, actor=caller.name
            )
        )
    except InvalidWhitelist as error:
        raise ApiError(422, "invalid_allowed_ips", str(error)) from None
    except UnknownKey as error:
        raise ApiError(404, "unknown_key", str(error)) from None
    except KeyConflict as error:
        raise ApiError(409, "key_conflict", str(error)) from None


@router.post(
    "/{key_id}/authorize",
    response_model=AuthorizeOut,
    dependencies=[Depends(limited("authorize"))],
)
async def authorize_use(
    key_id: KeyIdPath, body: AuthorizeIn, caller: Gateway, store: StoreDep
) -> AuthorizeOut:
    """May the key be used from `ip` for `permission`? Every answer is logged.

    One read, no write lock: the log row is queued and committed in a batch afterwards.
    """
    started = time.perf_counter()
    view = await store.read(lambda c: key_view(c, key_id))
    if view is not None and not sees(caller, view.exchange):
        view = None  # another exchange's key: answered and logged as an unknown one
    decision, entry = decide_access(
        view,
        key_id,
        body.ip,
        body.permission,
        datetime.now(UTC),
        body.user_agent,
        body.tls_fingerprint,
    )
    store.log_access(entry)
    GATEWAY_DECISION_SECONDS.observe(time.perf_counter() - started)
    GATEWAY_DECISIONS.labels("authorize", decision.reason.value).inc()
    return AuthorizeOut(allowed=decision.allowed, reason=decision.reason.value)
