"""Provider webhook bodies read into keycase's terms, bounded before they are parsed.

Each reader raises `BadEvents` (a 400) for anything it cannot use; none lets a malformed
but correctly signed body turn into a 500.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from domain.notices import DeliveryStatus

# A status callback carries about twenty fields in a kilobyte or two; anything far beyond
# that is not Twilio, and parsing it in the event loop would stall every other request.
TWILIO_MAX_FIELDS = 100
SENDGRID_MAX_EVENTS = 10_000
_LATEST_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last one datetime holds

# Opens and clicks imply delivery; deferrals, unsubscribes and spam reports change nothing.
_SENDGRID_STATUS = {
    "processed": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "open": DeliveryStatus.DELIVERED,
    "click": DeliveryStatus.DELIVERED,
    "bounce": DeliveryStatus.FAILED,
    "dropped": DeliveryStatus.FAILED,
}
_TWILIO_STATUS = {
    **dict.fromkeys(("queued", "accepted", "scheduled", "sending", "sent"), DeliveryStatus.SENT),
    **dict.fromkeys(("delivered", "read"), DeliveryStatus.DELIVERED),
    **dict.fromkeys(("undelivered", "failed", "canceled"), DeliveryStatus.FAILED),
}


class BadEvents(ValueError):
    """A signed body that is not what the provider sends."""


@dataclass(frozen=True)
class ProviderEvent:
    """One provider event in keycase's terms; `detail` is the provider's raw text."""

    event_id: str
    outbox_id: str | None
    message_id: str | None
    status: DeliveryStatus | None  # None: worth remembering, but it moves nothing
    detail: str | None
    occurred_at: datetime


class _SendGridEvent(BaseModel):
    """The fields keycase reads from one SendGrid event (others are ignored)."""

    model_config = ConfigDict(extra="allow")

    event: str = Field(min_length=1, max_length=64)
    sg_event_id: str | None = Field(default=None, max_length=200)
    sg_message_id: str | None = Field(default=None, max_length=200)
    outbox_id: Any = None
    timestamp: int = Field(default=0, ge=0, le=_LATEST_TIMESTAMP)
    reason: Any = None
    response: Any = None


_SENDGRID_BATCH = TypeAdapter(list[_SendGridEvent])


def read_sendgrid_batch(raw: bytes) -> list[ProviderEvent]:
    """The events of one SendGrid batch (a JSON array of event objects)."""
    try:
        batch = _SENDGRID_BATCH.validate_json(raw)
    except ValidationError as error:
        raise BadEvents(f"expected a JSON array of events: {_first_problem(error)}") from None
    if len(batch) > SENDGRID_MAX_EVENTS:
        raise BadEvents(f"{len(batch)} events; at most {SENDGRID_MAX_EVENTS} in one batch")
    return [_sendgrid_event(item) for item in batch]


def _sendgrid_event(item: _SendGridEvent) -> ProviderEvent:
    canonical = json.dumps(item.model_dump(), sort_keys=True, separators=(",", ":"), default=str)
    detail = item.reason or item.response or item.event
    return ProviderEvent(
        event_id=item.sg_event_id or hashlib.sha256(canonical.encode()).hexdigest(),
        outbox_id=outbox_id_of(item.outbox_id),
        # Events carry "<X-Message-Id>.<suffix>"; the outbox keeps the X-Message-Id.
        message_id=item.sg_message_id.split(".", 1)[0] if item.sg_message_id else None,
        status=_SENDGRID_STATUS.get(item.event),
        detail=str(detail)[:500],  # masked and cut further before it reaches a case
        occurred_at=datetime.fromtimestamp(item.timestamp, UTC),
    )


def twilio_params(raw: bytes) -> dict[str, str]:
    """The form fields of a status callback, refusing bodies with too many of them."""
    try:
        pairs = parse_qsl(
            raw.decode(errors="replace"), keep_blank_values=True, max_num_fields=TWILIO_MAX_FIELDS
        )
    except ValueError:
        raise BadEvents(f"more than {TWILIO_MAX_FIELDS} form fields") from None
    return dict(pairs)


def twilio_event(params: dict[str, str], outbox_id: str | None) -> ProviderEvent:
    """One status callback's event."""
    sid, status = params.get("MessageSid"), params.get("MessageStatus")
    if not sid or not status:
        raise BadEvents("MessageSid and MessageStatus are required")
    code = params.get("ErrorCode")
    return ProviderEvent(
        # One callback per status per message; Twilio's own retries repeat both.
        event_id=f"{sid}:{status}"[:200],
        outbox_id=outbox_id_of(outbox_id),
        message_id=sid[:64],
        status=_TWILIO_STATUS.get(status),
        detail=(f"{status} (error {code})" if code else status)[:500],
        occurred_at=datetime.now(UTC),
    )


def outbox_id_of(value: object) -> str | None:
    """`value` if it is shaped like one of keycase's outbox ids, else None."""
    if isinstance(value, str) and value.startswith("ob_") and len(value) <= 40:
        return value
    return None


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])
