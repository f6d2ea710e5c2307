"""Accounts: an exchange customer's contacts, registered by an admin."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Admin, Sessions
from api.errors import ApiError
from api.schemas import AccountIn
from store.accounts import AccountRecord, InvalidContact, upsert_account
from store.uow import run_write

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.post("", response_model=AccountRecord)
async def register_account(body: AccountIn, caller: Admin, sessions: Sessions) -> AccountRecord:
    """Register an account or replace its contacts."""

    async def work(session: AsyncSession) -> AccountRecord:
        return await upsert_account(session, **body.model_dump())

    try:
        return await run_write(sessions, work)
    except InvalidContact as error:
        raise ApiError(422, "invalid_contact", str(error)) from None
