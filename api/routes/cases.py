"""Reading cases: the list from Temporal visibility, one case from its workflow."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Reader, TemporalClient
from api.schemas import CaseFilter, CasePage
from api.visibility import list_cases

router = APIRouter(prefix="/v1/cases", tags=["cases"])


@router.get("", response_model=CasePage)
async def get_cases(
    case_filter: Annotated[CaseFilter, Query()], caller: Reader, client: TemporalClient
) -> CasePage:
    """Cases filtered by stage, exchange, severity or key, newest first."""
    return await list_cases(client, case_filter)
