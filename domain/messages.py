"""Messages that reach a running case from outside: signal names and their models.

The officer updates (confirm, dismiss, ...) and the `case` query live with the case
model; these are the ones sent by machines (surveillance, KYC provider, webhooks).
"""

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.notices import Channel, DeliveryStatus


class SignalName:
    ALERT = "alert"  # payload: domain.alerts.Alert
    KYC_RESULT = "kyc_result"
    DELIVERY_EVENT = "delivery_event"
    RING = "ring"  # payload: domain.rings.ring.RingMembership


class KycResult(BaseModel):
    """The outcome of the owner's identity re-verification."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    passed: bool
    reference: str = Field(min_length=1, max_length=128)
    actor: str = Field(min_length=1, max_length=64)  # the kyc token's name
    received_at: AwareDatetime


class DeliveryEvent(BaseModel):
    """A provider's report on one notice channel (from the SendGrid/Twilio webhooks)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notice_id: str
    channel: Channel
    status: DeliveryStatus
    outbox_id: str
    detail: str | None = Field(default=None, max_length=200)
    occurred_at: AwareDatetime
