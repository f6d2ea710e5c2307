"""Audit facts a ring records: formed, member joined, rings merged, action fanned out.

Ring-wide facts carry the ring id where a case's facts carry the key (`key_id`), with no
case; a member's joining carries its key and case, so it shows in that case's timeline.
Event ids are built from the ring and the step, so a retried write appends nothing.
"""

from datetime import datetime

from domain.activity_io import AuditFact
from domain.audit_events import EventType
from domain.rings.links import Link
from domain.rings.ring import MemberOutcome, RingDecision, RingState


def ring_formed(state: RingState, first: list[Link], at: datetime) -> AuditFact:
    """The ring has two members: why (the links that made it)."""
    payload = {
        "exchange": state.exchange,
        "accounts": sorted(m.account_id for m in state.members),
        "links": [_reason(link) for link in first[:20]],
    }
    return AuditFact(
        event_id=f"{state.ring_id}:formed",
        event_type=EventType.RING_FORMED,
        key_id=state.ring_id,
        occurred_at=at,
        payload=payload,
    )


def member_joined(
    state: RingState,
    account_id: str,
    key_id: str,
    case_id: str | None,
    why: Link | None,
    at: datetime,
) -> AuditFact:
    """A key (and its account) joined the ring."""
    payload: dict[str, object] = {"ring_id": state.ring_id, "account_id": account_id}
    if why is not None:
        payload["link"] = _reason(why)
    return AuditFact(
        event_id=f"{state.ring_id}:joined:{key_id}",
        event_type=EventType.RING_MEMBER_JOINED,
        case_id=case_id,
        key_id=key_id,
        occurred_at=at,
        payload=payload,
    )


def rings_merged(state: RingState, absorbed: str, at: datetime) -> AuditFact:
    """Another ring joined this one and ended; its members are this ring's now."""
    return AuditFact(
        event_id=f"{state.ring_id}:merged:{absorbed}",
        event_type=EventType.RING_MERGED,
        key_id=state.ring_id,
        occurred_at=at,
        payload={"continues": state.ring_id, "ended": absorbed, "accounts": state.size},
    )


def action_fanned_out(
    state: RingState, decision: RingDecision, outcomes: list[MemberOutcome], inherited: bool
) -> AuditFact:
    """An officer's action went to every member case (or a later member inherited it)."""
    suffix = f":{outcomes[0].key_id}" if inherited and outcomes else ""
    return AuditFact(
        event_id=f"{state.ring_id}:action:{decision.seq}{suffix}",
        event_type=EventType.RING_ACTION_FANNED_OUT,
        key_id=state.ring_id,
        actor=decision.actor,
        occurred_at=decision.at,
        payload={
            "action": decision.action.value,
            "seq": decision.seq,
            "reason": decision.reason,
            "inherited": inherited,
            "members": [
                {"case_id": o.case_id, "applied": o.applied, "code": o.code} for o in outcomes[:200]
            ],
        },
    )


def _reason(link: Link) -> dict[str, object]:
    return {
        "kind": link.kind,
        "source_id": link.source_id,
        "origin": link.origin,
        "keys": [link.key_a, link.key_b],
        "observed_at": link.observed_at.isoformat(),
    }
