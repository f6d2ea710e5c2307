"""Surveillance alerts: each opens a case for its key, joins the open one, or is a repeat."""

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import AppSettings, RunningPolicy, StoreDep, Surveillance, TemporalClient
from api.errors import ApiError
from api.intake import AlertsInFlight
from api.rate_limit import limited
from api.ring_links import RingLinker
from api.schemas import AlertAccepted, AlertStatus
from api.scope import require_key_in_scope, unknown_key
from domain.alerts import Alert, observed_too_late
from observability.metrics import ACCEPT_TO_FLAGGED, ALERTS

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.post(
    "",
    status_code=202,
    response_model=AlertAccepted,
    dependencies=[Depends(limited("alerts"))],
)
async def raise_alert(
    request: Request,
    alert: Alert,
    caller: Surveillance,
    settings: AppSettings,
    client: TemporalClient,
    store: StoreDep,
    policy: RunningPolicy,
) -> AlertAccepted:
    """Hand the alert to its key's case: `opened`, `attached` or `duplicate` (same alert id)."""
    arrived = time.perf_counter()
    problem = observed_too_late(alert, datetime.now(UTC), settings.alert_clock_skew)
    if problem is not None:
        ALERTS.labels("refused").inc()
        raise ApiError(422, "observed_in_future", problem)
    unknown = policy.exchange_problem(alert.exchange)
    if unknown is not None:
        ALERTS.labels("refused").inc()
        raise ApiError(422, "unknown_exchange", unknown)
    await require_key_in_scope(caller, store, alert.key_id, unknown_key(alert.key_id))
    in_flight: AlertsInFlight = request.app.state.alerts_in_flight
    try:
        answer = await in_flight.take(alert, settings.task_queue, store, client)
    except StarletteHTTPException as error:
        ALERTS.labels("shed" if error.status_code == 503 else "refused").inc()
        raise
    except Exception:  # the case engine failed or timed out: a 503 or 502 (api.errors)
        ALERTS.labels("failed").inc()
        raise
    if alert.evidence.get("related_keys"):
        # A repeat links again: it finishes what a failed first delivery left undone.
        linker: RingLinker = request.app.state.ring_linker
        await linker.link(alert, answer.case_id)
    ALERTS.labels(answer.status.value).inc()
    if answer.status is AlertStatus.OPENED:  # intake flagged the key as it settled
        ACCEPT_TO_FLAGGED.observe(time.perf_counter() - arrived)
    return answer
