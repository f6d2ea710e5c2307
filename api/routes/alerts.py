"""Surveillance alerts: each opens a case for its key, joins the open one, or is a repeat."""

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from api.deps import AppSettings, StoreDep, Surveillance, TemporalClient
from api.errors import ApiError
from api.intake import AlertsInFlight
from api.schemas import AlertAccepted
from domain.alerts import Alert, observed_too_late

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.post("", status_code=202, response_model=AlertAccepted)
async def raise_alert(
    request: Request,
    alert: Alert,
    caller: Surveillance,
    settings: AppSettings,
    client: TemporalClient,
    store: StoreDep,
) -> AlertAccepted:
    """Hand the alert to its key's case: `opened`, `attached` or `duplicate` (same alert id)."""
    problem = observed_too_late(alert, datetime.now(UTC), settings.alert_clock_skew)
    if problem is not None:
        raise ApiError(422, "observed_in_future", problem)
    in_flight: AlertsInFlight = request.app.state.alerts_in_flight
    return await in_flight.take(alert, settings.task_queue, store, client)
