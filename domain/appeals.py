"""Appeals of an expiry and replacement keys: the policy's `[appeals]` table, the models the
AppealWorkflow carries, and the pure rules that refuse an appeal or a replacement.

Expiry stays irreversible. An appeal, filed within the policy's window after the expiry,
opens an officer review; an upheld appeal allows one replacement key for the expired one,
from a cool-down after the decision on; a rejected appeal is final.
"""

import tomllib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.alerts import AlertKind, Severity
from domain.case import CaseState
from domain.officer import Actor, Reason
from domain.policy import IsoDuration, PolicyError, format_iso_duration, policy_problems
from domain.stages import CaseStage

APPEALS_TABLE = "appeals"  # the policy file's table; the ladder's reader skips it
MAX_STATEMENT_LENGTH = 4000
LONGEST_WINDOW = timedelta(days=365)
# Text with line breaks and tabs but no other control characters, and not only spaces.
_PLAIN = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*"
STATEMENT_PATTERN = rf"^{_PLAIN}[^\s\x00-\x1f\x7f]{_PLAIN}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppealsPolicy(_Model):
    """How long after an expiry an appeal may be filed, and how long after an upheld appeal
    a replacement key must wait."""

    window: IsoDuration = timedelta(days=14)
    replacement_cooldown: IsoDuration = timedelta(days=1)

    @field_validator("window", "replacement_cooldown")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if not timedelta(0) < value <= LONGEST_WINDOW:
            raise ValueError("must be longer than zero and at most P365D")
        return value


def parse_appeals_policy(text: str, source: str) -> AppealsPolicy:
    """The `[appeals]` table of a policy file (defaults when absent); PolicyError if bad."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"policy {source}: not valid TOML: {error}") from error
    try:
        return _PolicyFile.model_validate({APPEALS_TABLE: data.get(APPEALS_TABLE, {})}).appeals
    except ValidationError as error:
        raise PolicyError(f"policy {source}: {policy_problems(error)}") from error


class _PolicyFile(_Model):
    """Only so that problems are named `appeals.<field>`, as the file spells them."""

    appeals: AppealsPolicy


class AppealStatus(StrEnum):
    REVIEW = "review"
    UPHELD = "upheld"
    REJECTED = "rejected"


STAGE_OF: dict[AppealStatus, CaseStage] = {
    AppealStatus.REVIEW: CaseStage.APPEAL_REVIEW,
    AppealStatus.UPHELD: CaseStage.APPEAL_UPHELD,
    AppealStatus.REJECTED: CaseStage.APPEAL_REJECTED,
}


class UpdateName:
    DECIDE = "decide_appeal"


class QueryName:
    APPEAL = "appeal"


Statement = Annotated[str, Field(min_length=1, max_length=MAX_STATEMENT_LENGTH)]


class AppealInput(_Model):
    """Starts the AppealWorkflow of one expired case: the filing and what the notices need."""

    case_id: str
    key_id: str
    account_id: str
    exchange: str
    severity: Severity
    detected: list[AlertKind] = Field(default_factory=list)
    expired_at: AwareDatetime
    statement: Statement  # the owner's words, kept in the store, never in the audit chain
    filed_by: Actor
    filed_at: AwareDatetime
    replacement_cooldown: timedelta  # pinned at filing, from the policy then in force


class AppealDecision(_Model):
    """An officer's decision on an appeal under review (the update's input)."""

    upheld: bool
    actor: Actor
    reason: Reason


class AppealState(_Model):
    """An appeal as the workflow holds it; the update and the query answer with it."""

    case_id: str
    key_id: str
    status: AppealStatus = AppealStatus.REVIEW
    filed_by: str
    filed_at: AwareDatetime
    decided_by: str | None = None
    decided_at: AwareDatetime | None = None
    decision_reason: str | None = None
    replacement_allowed_from: AwareDatetime | None = None  # upheld only
    notices: list[str] = Field(default_factory=list)  # notice ids sent to the owner


class EndedCase(_Model):
    """What an appeal needs of the case it appeals: who, where, and how it ended."""

    case_id: str
    key_id: str
    account_id: str
    exchange: str
    severity: Severity
    detected: list[AlertKind] = Field(default_factory=list)
    stage: CaseStage
    expired_at: AwareDatetime | None = None  # when it ended in an expiry


def ended_case(case: CaseState) -> EndedCase:
    """The case as its workflow's query shows it."""
    return EndedCase(
        case_id=case.case_id,
        key_id=case.key_id,
        account_id=case.account_id,
        exchange=case.exchange,
        severity=case.severity,
        detected=list(case.alerts.kinds),
        stage=case.stage,
        expired_at=expired_at(case),
    )


def expired_at(case: CaseState) -> datetime | None:
    """When the case expired its key, or None for a case that did not end in expiry."""
    if case.stage is not CaseStage.EXPIRED:
        return None
    change = next((c for c in reversed(case.stages) if c.stage is CaseStage.EXPIRED), None)
    return change.at if change else case.closed_at


def appeal_refusal(case: EndedCase, now: datetime, policy: AppealsPolicy) -> str | None:
    """Why no appeal may be filed on `case` now (None: it may)."""
    expiry = case.expired_at
    if expiry is None:
        return (
            f"case {case.case_id} is {case.stage.value}, not EXPIRED: only an expiry can be "
            "appealed"
        )
    closes = expiry + policy.window
    if now > closes:
        return (
            f"the appeal window of case {case.case_id} closed at {closes.isoformat()} "
            f"({format_iso_duration(policy.window)} after the expiry at {expiry.isoformat()})"
        )
    return None


def decision_refusal(state: AppealState, decision: AppealDecision) -> str | None:
    """Why an officer's decision cannot be taken (None: it can)."""
    if state.status is not AppealStatus.REVIEW:
        return (
            f"the appeal of case {state.case_id} was already {state.status.value} by "
            f"{state.decided_by}: a decision is final"
        )
    if not decision.reason.strip():
        return "a decision needs a reason"
    return None


def decided(
    state: AppealState, decision: AppealDecision, now: datetime, cooldown: timedelta
) -> AppealState:
    """The appeal after the officer's decision."""
    status = AppealStatus.UPHELD if decision.upheld else AppealStatus.REJECTED
    return state.model_copy(
        update={
            "status": status,
            "decided_by": decision.actor,
            "decided_at": now,
            "decision_reason": decision.reason,
            "replacement_allowed_from": now + cooldown if decision.upheld else None,
        }
    )


class AppealRecord(_Model):
    """An appeal as the store keeps it (what `GET /v1/cases/{case_id}/appeal` shows)."""

    case_id: str
    key_id: str
    account_id: str
    exchange: str
    status: AppealStatus
    statement: str | None  # None for callers who may not read the owner's words
    filed_by: str
    filed_at: AwareDatetime
    expired_at: AwareDatetime
    decided_by: str | None = None
    decided_at: AwareDatetime | None = None
    decision_reason: str | None = None
    replacement_allowed_from: AwareDatetime | None = None
    replacement_key_id: str | None = None


def replacement_refusal(
    appeal: AppealRecord | None,
    replaces: str,
    new_key_id: str,
    account_id: str,
    exchange: str,
    now: datetime,
) -> str | None:
    """Why `new_key_id` may not be registered as the replacement of `replaces` (None: it may)."""
    if appeal is None or (appeal.account_id, appeal.exchange) != (account_id, exchange):
        return (
            f"key {replaces} has no appeal of its expiry on account {account_id} at {exchange}: "
            "a replacement key needs an upheld appeal"
        )
    if appeal.status is AppealStatus.REVIEW:
        return f"the appeal of case {appeal.case_id} is still under review"
    if appeal.status is AppealStatus.REJECTED:
        return (
            f"the appeal of case {appeal.case_id} was rejected by {appeal.decided_by}: "
            f"{appeal.decision_reason}; a rejected appeal is final"
        )
    if appeal.replacement_key_id not in (None, new_key_id):
        return f"key {replaces} was already replaced by key {appeal.replacement_key_id}"
    allowed_from = appeal.replacement_allowed_from
    if allowed_from is not None and now < allowed_from:
        return (
            f"a replacement for key {replaces} may be registered from {allowed_from.isoformat()} "
            "(the cool-down after the appeal was upheld)"
        )
    return None
