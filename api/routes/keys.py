"""The key registry: registration and whitelists (admin), status (officers, auditors),
and the gateway's question whether a key may be used from an address."""

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AccessLog, Admin, Gateway, KeyReads, Reader, Sessions
from api.errors import ApiError
from api.schemas import AllowedIpsIn, AuthorizeIn, AuthorizeOut, KeyIn
from domain.alerts import KeyId
from domain.network import InvalidWhitelist
from store.access import decide_access
from store.registry import (
    KeyConflict,
    KeyRecord,
    UnknownAccount,
    UnknownKey,
    get_key,
    register_key,
    replace_allowed_ips,
)
from store.uow import run_write

router = APIRouter(prefix="/v1/keys", tags=["keys"])

KeyIdPath = Annotated[KeyId, Path(description="the key's opaque id")]


@router.post("", status_code=201, response_model=KeyRecord)
async def register(body: KeyIn, caller: Admin, sessions: Sessions) -> KeyRecord:
    """Register a key; repeating the same registration changes nothing."""

    async def work(session: AsyncSession) -> KeyRecord:
        return await register_key(session, **body.model_dump())

    try:
        return await run_write(sessions, work)
    except InvalidWhitelist as error:
        raise ApiError(422, "invalid_allowed_ips", str(error)) from None
    except UnknownAccount as error:
        raise ApiError(422, "unknown_account", str(error)) from None
    except KeyConflict as error:
        raise ApiError(409, "key_conflict", str(error)) from None


@router.get("/{key_id}", response_model=KeyRecord)
async def status(key_id: KeyIdPath, caller: Reader, sessions: Sessions) -> KeyRecord:
    """The key's status, permissions and allowed IPs."""
    async with sessions() as session:
        record = await get_key(session, key_id)
    if record is None:
        raise ApiError(404, "unknown_key", f"key {key_id} is not registered")
    return record


@router.put("/{key_id}/allowed-ips", response_model=KeyRecord)
async def replace_whitelist(
    key_id: KeyIdPath, body: AllowedIpsIn, caller: Admin, sessions: Sessions
) -> KeyRecord:
    """Replace the key's whitelist (addresses or CIDR blocks, at most ten)."""

    async def work(session: AsyncSession) -> KeyRecord:
        return await replace_allowed_ips(session, key_id, body.allowed_ips)

    try:
        return await run_write(sessions, work)
    except InvalidWhitelist as error:
        raise ApiError(422, "invalid_allowed_ips", str(error)) from None
    except UnknownKey as error:
        raise ApiError(404, "unknown_key", str(error)) from None
    except KeyConflict as error:
        raise ApiError(409, "key_conflict", str(error)) from None


@router.post("/{key_id}/authorize", response_model=AuthorizeOut)
async def authorize_use(
    key_id: KeyIdPath, body: AuthorizeIn, caller: Gateway, views: KeyReads, access_log: AccessLog
) -> AuthorizeOut:
    """May the key be used from `ip` for `permission`? Every answer is logged.

    One read, no write lock: the log row is queued and committed in a batch afterwards.
    """
    decision, entry = await decide_access(
        views, key_id, body.ip, body.permission, None, body.user_agent, body.tls_fingerprint
    )
    access_log.submit(entry)
    return AuthorizeOut(allowed=decision.allowed, reason=decision.reason.value)
