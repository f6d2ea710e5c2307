"""Surveillance alerts: each opens a case for its key, joins the open one, or is a repeat."""

from fastapi import APIRouter

from api.deps import AppSettings, GroupWrites, Sessions, Surveillance, TemporalClient
from api.intake import take_alert
from api.schemas import AlertAccepted
from domain.alerts import Alert

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.post("", status_code=202, response_model=AlertAccepted)
async def raise_alert(
    alert: Alert,
    caller: Surveillance,
    settings: AppSettings,
    sessions: Sessions,
    writes: GroupWrites,
    client: TemporalClient,
) -> AlertAccepted:
    """Hand the alert to its key's case: `opened`, `attached` or `duplicate` (same alert id)."""
    return await take_alert(alert, settings.task_queue, sessions, writes, client)
