"""Request and response bodies: unknown fields rejected, every string and list bounded."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from domain.alerts import ExchangeId, KeyId, Severity
from domain.stages import CaseStage

Reason = Annotated[str, Field(min_length=1, max_length=500)]


class Body(BaseModel):
    """Base of every body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class AlertStatus(StrEnum):
    OPENED = "opened"
    ATTACHED = "attached"
    DUPLICATE = "duplicate"


class AlertAccepted(Body):
    """What became of an alert: the case it belongs to and how it got there."""

    case_id: str
    status: AlertStatus


class CaseFilter(Body):
    """Query parameters of `GET /v1/cases`."""

    stage: CaseStage | None = None
    exchange: ExchangeId | None = None
    severity: Severity | None = None
    key_id: KeyId | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2000)


class CaseSummary(Body):
    """One case as visibility knows it (what the Temporal UI list shows)."""

    case_id: str
    key_id: str
    exchange: str | None
    stage: CaseStage | None
    severity: Severity | None
    kyc_deadline: datetime | None
    assigned_to: str | None
    running: bool
    started_at: datetime
    closed_at: datetime | None


class CasePage(Body):
    """A page of cases; pass `next_cursor` back as `cursor` for the next one."""

    cases: list[CaseSummary]
    next_cursor: str | None


class KycIn(Body):
    """The KYC provider's verdict on a case's re-verification."""

    passed: StrictBool
    reference: str = Field(min_length=1, max_length=128)


class ActionIn(Body):
    """An officer action that needs only a reason (confirm, dismiss, expire-now)."""

    reason: Reason


class ExtendDeadlineIn(ActionIn):
    deadline: AwareDatetime


class AssignIn(ActionIn):
    assignee: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")


class NoteIn(ActionIn):
    text: str = Field(min_length=1, max_length=2000)
