"""Accounts: an exchange customer's contacts, registered by an admin, erased on request."""

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import Admin, StoreDep
from api.errors import ApiError
from api.schemas import AccountErasedOut, AccountIn
from api.scope import ScopedAccountId, unknown_account
from domain.contacts import InvalidContact
from store.accounts import (
    AccountErased,
    AccountRecord,
    CasesStillOpen,
    erase_account,
    upsert_account,
)

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.post("", response_model=AccountRecord)
async def register_account(body: AccountIn, caller: Admin, store: StoreDep) -> AccountRecord:
    """Register an account or replace its contacts (not an erased account's)."""
    try:
        return await store.write(
            lambda c: upsert_account(c, **body.model_dump(), actor=caller.name)
        )
    except InvalidContact as error:
        raise ApiError(422, "invalid_contact", str(error)) from None
    except AccountErased as error:
        raise ApiError(409, "account_erased", str(error)) from None


@router.post("/{account_id}/erase", response_model=AccountErasedOut)
async def erase(account_id: ScopedAccountId, caller: Admin, store: StoreDep) -> AccountErasedOut:
    """Erase the account's contacts once its cases are closed; it keeps its id and keys.

    No notice can reach it afterwards. Erasing an erased account changes nothing."""
    now = datetime.now(UTC)
    try:
        erased = await store.write(lambda c: erase_account(c, account_id, caller.name, now))
    except CasesStillOpen as error:
        raise ApiError(409, "cases_open", str(error)) from None
    if erased is None:
        raise unknown_account(account_id)
    return AccountErasedOut(
        account_id=erased.account_id,
        key_ids=erased.key_ids,
        erased_at=erased.erased_at,
        erased_now=erased.erased_now,
    )
