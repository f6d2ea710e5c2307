"""Request and response bodies: unknown fields rejected, every string and list bounded."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from domain.alerts import AccountId, ExchangeId, KeyId, Severity
from domain.appeals import MAX_STATEMENT_LENGTH, STATEMENT_PATTERN
from domain.detection.client import JA4_LENGTH, JA4_PATTERN, USER_AGENT_PATTERN
from domain.keys import MAX_ALLOWED_IPS, Permission
from domain.network import MAX_TEXT_LENGTH
from domain.officer import OfficerAction, OfficerId
from domain.stages import CaseStage

SQL_INT_MAX = 2**63 - 1  # the largest INTEGER both stores (SQLite, PostgreSQL BIGINT) hold

# Free text must say something: whitespace only is refused here (422), not by the case (409).
_SAYS_SOMETHING = r"\S"
Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=_SAYS_SOMETHING)]


class Body(BaseModel):
    """Base of every body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class AccountIn(Body):
    """An account's contacts (checked further by the store: E.164 phone, e-mail shape)."""

    account_id: AccountId
    email: str = Field(min_length=3, max_length=254)
    phone: str = Field(min_length=8, max_length=16)
    locale: Literal["ko", "en"] = "ko"


class AccountErasedOut(Body):
    """An erased account: its id and keys remain, its contacts are gone."""

    account_id: str
    key_ids: list[str]
    erased_at: datetime
    erased_now: bool  # false: it had been erased before, nothing changed


IpEntry = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LENGTH)]
AllowedIps = Annotated[list[IpEntry], Field(max_length=MAX_ALLOWED_IPS)]


class KeyIn(Body):
    """A key to register; its secret never reaches keycase."""

    key_id: KeyId
    account_id: AccountId
    exchange: ExchangeId
    permissions: list[Permission] = Field(min_length=1, max_length=len(Permission))
    allowed_ips: AllowedIps = Field(default_factory=list)
    # An expired key whose appeal was upheld: this key replaces it (README "Appeals").
    replaces: KeyId | None = None


class AllowedIpsIn(Body):
    """The complete new whitelist of a key."""

    allowed_ips: AllowedIps


class AuthorizeIn(Body):
    """The gateway's question: may the key be used from `ip` for `permission`?"""

    ip: str = Field(min_length=1, max_length=64)
    permission: Permission
    # As the gateway's proxy or CDN passes them on; recorded with the decision for detection.
    user_agent: str | None = Field(default=None, pattern=USER_AGENT_PATTERN)
    tls_fingerprint: str | None = Field(
        default=None, max_length=JA4_LENGTH, pattern=JA4_PATTERN, description="JA4"
    )


class AuthorizeOut(Body):
    """The answer, with the reason (e.g. `expired`, `ip_not_whitelisted`, `allowed`)."""

    allowed: bool
    reason: str


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
    # true: only cases with a dismiss or expire-now waiting for a second officer
    pending_approval: bool | None = None
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
    pending_approval: OfficerAction | None = None  # waiting for a second officer
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
    reference: str = Field(min_length=1, max_length=128, pattern=_SAYS_SOMETHING)


class KycAccepted(Body):
    """The verdict reached the case; it moves on asynchronously."""

    case_id: str
    passed: bool
    reference: str


class ActionIn(Body):
    """An officer action that needs only a reason (confirm, dismiss, expire-now)."""

    reason: Reason


class ExtendDeadlineIn(ActionIn):
    deadline: AwareDatetime


class AssignIn(ActionIn):
    assignee: OfficerId


class NoteIn(ActionIn):
    text: str = Field(min_length=1, max_length=2000, pattern=_SAYS_SOMETHING)


class AppealIn(Body):
    """An appeal of an expiry, filed for the key's owner, in the owner's words."""

    statement: str = Field(
        min_length=1,
        max_length=MAX_STATEMENT_LENGTH,
        pattern=STATEMENT_PATTERN,
        description="plain text: lines of printable characters, not only spaces",
    )


class RingFilter(Body):
    """Query parameters of `GET /v1/rings`."""

    exchange: ExchangeId | None = None
    min_size: int = Field(default=2, ge=2, le=100_000)
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2000)


class RingSummary(Body):
    """One ring as the store lists it."""

    ring_id: str
    exchange: str
    size: int
    formed_at: datetime
    updated_at: datetime


class RingPage(Body):
    """A page of rings, newest first; pass `next_cursor` back as `cursor` for the next one."""

    rings: list[RingSummary]
    next_cursor: str | None
