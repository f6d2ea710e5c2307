"""Exchange scope, the one place it is checked: a scoped caller touches only its exchanges.

Anything on another exchange answers exactly as an unknown id would (404), so a scoped
caller cannot even learn that it exists."""

from typing import Annotated

from fastapi import Depends, Path

from api.auth import Principal
from api.case_runs import CaseIdPath, parse_case_id, unknown_case
from api.deps import Caller, StoreDep
from api.errors import ApiError
from domain.alerts import AccountId, KeyId
from store.port import Store
from store.registry import account_exchanges, get_key

KeyIdPath = Annotated[KeyId, Path(description="the key's opaque id")]
AccountIdPath = Annotated[AccountId, Path(description="the account's opaque id")]


def sees(caller: Principal, exchange: str) -> bool:
    """May `caller` see things on `exchange`?"""
    return caller.exchanges is None or exchange in caller.exchanges


async def require_key_in_scope(
    caller: Principal, store: Store, key_id: str, unknown: ApiError
) -> None:
    """Raise `unknown` when the key is on an exchange `caller` does not see (or unknown).

    Unscoped callers pass without a read; a scoped caller's request costs one key read."""
    if caller.exchanges is None:
        return
    record = await store.read(lambda c: get_key(c, key_id))
    if record is None or not sees(caller, record.exchange):
        raise unknown


def unknown_key(key_id: str) -> ApiError:
    """The answer for a key that is not registered (or not the caller's to see)."""
    return ApiError(404, "unknown_key", f"key {key_id} is not registered")


async def _case_in_scope(case_id: CaseIdPath, caller: Caller, store: StoreDep) -> str:
    await require_key_in_scope(caller, store, parse_case_id(case_id), unknown_case(case_id))
    return case_id


async def _key_in_scope(key_id: KeyIdPath, caller: Caller, store: StoreDep) -> str:
    await require_key_in_scope(caller, store, key_id, unknown_key(key_id))
    return key_id


def unknown_account(account_id: str) -> ApiError:
    """The answer for an account that is not registered (or not the caller's to see)."""
    return ApiError(404, "unknown_account", f"account {account_id} is not registered")


async def _account_in_scope(account_id: AccountIdPath, caller: Caller, store: StoreDep) -> str:
    """A scoped caller reaches an account only if every key of it is on its exchanges
    (an account has no exchange of its own; one without keys is no scoped caller's)."""
    if caller.exchanges is None:
        return account_id
    exchanges = await store.read(lambda c: account_exchanges(c, account_id))
    if not exchanges or not exchanges <= caller.exchanges:
        raise unknown_account(account_id)
    return account_id


# Path parameters that are checked against the caller's exchanges before the route runs.
ScopedCaseId = Annotated[str, Depends(_case_in_scope)]
ScopedKeyId = Annotated[str, Depends(_key_in_scope)]
ScopedAccountId = Annotated[str, Depends(_account_in_scope)]
