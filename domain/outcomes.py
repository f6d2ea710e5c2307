"""What became of surveillance's alerts: one outcome per alert of a case when the case ends.

Surveillance learns which of its alerts were right (the key expired: confirmed), which an
officer found false (dismissed, with the officer's reason), and which came to nothing
(cleared after the quiet window, restored after probation).
"""

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.stages import CaseStage

SIGNATURE_HEADER = "Keycase-Signature"  # "t=<unix seconds>,v1=<hex HMAC-SHA256>"
OUTCOME_ID_HEADER = "Keycase-Outcome-Id"  # the same on every retry: receivers drop repeats


class OutcomeKind(StrEnum):
    CONFIRMED = "confirmed"  # the key was expired
    RESTORED = "restored"
    DISMISSED = "dismissed"  # a false positive, in an officer's judgement
    CLEARED = "cleared"


OUTCOME_OF_ENDING: dict[CaseStage, OutcomeKind] = {
    CaseStage.EXPIRED: OutcomeKind.CONFIRMED,
    CaseStage.RESTORED: OutcomeKind.RESTORED,
    CaseStage.DISMISSED: OutcomeKind.DISMISSED,
    CaseStage.CLEARED: OutcomeKind.CLEARED,
}


class Outcome(BaseModel):
    """One alert's outcome, as `GET /v1/outcomes` and the webhook give it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int  # its place in the outcomes feed, in commit order
    outcome_id: str  # `<case id>:<alert id>`: stable, what a receiver dedupes on
    alert_id: str
    case_id: str
    key_id: str
    exchange: str
    outcome: OutcomeKind
    stage: CaseStage
    reason: str  # why the case ended; for `dismissed`, the officer's own reason
    decided_by: str  # "keycase" or the officer
    decided_at: AwareDatetime


def closing_payload(
    stage: CaseStage, alerts: int, reason: str, actor: str, officer_reason: str | None
) -> dict[str, Any]:
    """The `case.closed` fact's payload: enough to build the outcomes of the case's alerts."""
    payload: dict[str, Any] = {"stage": stage.value, "alerts": alerts, "reason": reason}
    payload["decided_by"] = actor
    if officer_reason is not None:
        payload["officer_reason"] = officer_reason
    return payload


def outcomes_of_ending(
    case_id: str,
    key_id: str,
    closed: Mapping[str, Any],
    decided_at: datetime,
    alerts: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The outcome rows (without `seq`) of a case that ended as its `case.closed` payload says.

    `alerts` are the payloads of the case's `alert.received` facts, oldest first.
    """
    stage = CaseStage(closed["stage"])
    kind = OUTCOME_OF_ENDING.get(stage)
    if kind is None:
        return []
    reason = str(closed.get("officer_reason") or closed.get("reason") or stage.value)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for alert in alerts:
        alert_id = str(alert["alert_id"])
        if alert_id in seen:
            continue
        seen.add(alert_id)
        rows.append(
            {
                "outcome_id": f"{case_id}:{alert_id}",
                "alert_id": alert_id,
                "case_id": case_id,
                "key_id": key_id,
                "exchange": str(alert["exchange"]),
                "outcome": kind.value,
                "stage": stage.value,
                "reason": reason[:500],
                "decided_by": str(closed.get("decided_by") or "keycase"),
                "decided_at": decided_at,
            }
        )
    return rows


def outcome_body(outcome: Outcome) -> bytes:
    """The webhook's body: the outcome as compact JSON."""
    return json.dumps(outcome.model_dump(mode="json"), separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Keycase-Signature` header: HMAC-SHA256 over `<timestamp>.<body>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def signature_matches(
    secret: str, header: str, body: bytes, now: int, tolerance_seconds: int = 300
) -> bool:
    """A receiver's check: the header's MAC is right and its timestamp recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


PUSH_WORKFLOW = "OutcomePushWorkflow"
PUSH_WORKFLOW_ID = "keycase-outcome-push"  # one per namespace: one drainer, outcomes in order
PUSH_OUTCOMES = "push_outcomes"


class OutcomePushInput(BaseModel):
    """Starts the push loop: how long each drain runs and how failed pushes back off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drain_seconds: float = 60.0  # one activity drains this long, then the loop asks again
    retry_initial_seconds: float = 1.0
    retry_max_seconds: float = 300.0


class PushOutcomesInput(BaseModel):
    """Input of the `push_outcomes` activity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drain_seconds: float


class PushOutcomesResult(BaseModel):
    """How many outcomes one drain delivered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delivered: int
