"""Accounts: an exchange customer's contacts, registered by an admin."""

from fastapi import APIRouter

from api.deps import Admin, StoreDep
from api.errors import ApiError
from api.schemas import AccountIn
from domain.contacts import InvalidContact
from store.accounts import AccountRecord, upsert_account

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.post("", response_model=AccountRecord)
async def register_account(body: AccountIn, caller: Admin, store: StoreDep) -> AccountRecord:
    """Register an account or replace its contacts."""
    try:
        return await store.write(lambda c: upsert_account(c, **body.model_dump()))
    except InvalidContact as error:
        raise ApiError(422, "invalid_contact", str(error)) from None
