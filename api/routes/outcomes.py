"""Outcomes back to surveillance: what became of each alert, paged in commit order."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from api.deps import StoreDep, Surveillance
from domain.outcomes import Outcome
from store.outcomes import outcomes_since

router = APIRouter(prefix="/v1/outcomes", tags=["outcomes"])


class OutcomePage(BaseModel):
    """A page of outcomes, oldest first; ask again with `since=cursor`; `more`: ready now."""

    model_config = ConfigDict(extra="forbid")

    outcomes: list[Outcome]
    cursor: int
    more: bool


@router.get("", response_model=OutcomePage)
async def list_outcomes(
    caller: Surveillance,
    store: StoreDep,
    since: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="the cursor of the last page read")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> OutcomePage:
    """The outcomes after `since` on the caller's exchanges: no gaps, no repeats."""
    exchanges = caller.exchanges
    rows = await store.read(lambda c: outcomes_since(c, since, limit, exchanges))
    cursor = rows[-1].seq if rows else since
    return OutcomePage(outcomes=rows, cursor=cursor, more=len(rows) == limit)
