"""A ring as its workflow holds it: members (accounts, keys, each key's open case), links with
their reasons, officers' decisions; and the messages that change it.

Pure: `absorb` applies links and merged rings to the state and says what changed, so the
workflow only acts on it. New fields get defaults (rings continue as new and carry this).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.alerts import Severity
from domain.officer import Actor, OfficerAction, OfficerActionResult, OfficerId, Reason
from domain.rings.links import Link
from domain.rings.policy import RingPolicy

RING_WORKFLOW = "RingWorkflow"
RING_ID_PATTERN = r"^ring-[0-9a-f]{20}$"
_RING_ID = re.compile(RING_ID_PATTERN)
MAX_LINKS_KEPT = 200  # the store keeps every link; the ring shows the latest
MAX_DECISIONS_KEPT = 100
SEEN_LINKS = 2000  # link ids remembered to drop repeats, carried across continue-as-new
RAISED_SEVERITY = Severity.HIGH
# What officers may do to a whole ring (extend-kyc-deadline stays per case: deadlines differ).
RING_ACTIONS = (
    OfficerAction.CONFIRM,
    OfficerAction.DISMISS,
    OfficerAction.EXPIRE_NOW,
    OfficerAction.ASSIGN,
    OfficerAction.ADD_NOTE,
    # Four eyes: a second officer approves or rejects what the first asked of every member.
    OfficerAction.APPROVE,
    OfficerAction.REJECT_PENDING,
)
# Actions a key joining later inherits: the ring's standing decision.
STANDING = (OfficerAction.CONFIRM, OfficerAction.DISMISS, OfficerAction.EXPIRE_NOW)


def ring_workflow_id(ring_id: str) -> str:
    """`keycase.<ring id>`: a '.' no case's workflow id has (key ids have none)."""
    if not _RING_ID.match(ring_id):
        raise ValueError(f"invalid ring id {ring_id!r}")
    return f"keycase.{ring_id}"


def is_ring_id(value: str) -> bool:
    return bool(_RING_ID.match(value))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RingUpdate:
    ADD = "add_links"
    MERGE_INTO = "merge_into"
    ACT = "act"


class RingQuery:
    RING = "ring"


class RingStatus(StrEnum):
    OPEN = "open"
    MERGED = "merged"


class MemberKey(_Model):
    key_id: str
    case_id: str | None = None  # the key's open case, once its own alert came in
    told: str | None = None  # the ring its case was last told it belongs to
    raised: bool = False  # its case got the ring's severity raise


class RingMember(_Model):
    account_id: str
    joined_at: AwareDatetime
    keys: list[MemberKey] = Field(default_factory=list)


class RingDecision(_Model):
    """An officer's action on the ring, and how many member cases took it."""

    seq: int
    action: OfficerAction
    actor: str
    reason: str
    at: AwareDatetime
    assignee: str | None = None
    text: str | None = None
    applied: int = 0
    refused: int = 0


class RingState(_Model):
    """The whole ring; what `GET /v1/rings/{ring_id}` shows."""

    ring_id: str
    exchange: str
    formed_at: AwareDatetime
    status: RingStatus = RingStatus.OPEN
    merged_into: str | None = None
    merged_from: list[str] = Field(default_factory=list)
    members: list[RingMember] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)  # the latest MAX_LINKS_KEPT, newest last
    link_count: int = 0
    decisions: list[RingDecision] = Field(default_factory=list)
    decision_count: int = 0
    standing: RingDecision | None = None  # the latest confirm, dismiss or expire-now
    raised_at: int = 3  # size from which members are raised (the pinned policy's)

    @property
    def size(self) -> int:
        return len(self.members)

    def member_of(self, account_id: str) -> RingMember | None:
        return next((m for m in self.members if m.account_id == account_id), None)


class RingInput(_Model):
    """Starts (or continues) one ring's workflow."""

    ring_id: str
    exchange: str
    formed_at: AwareDatetime
    policy: RingPolicy = RingPolicy()
    carried: RingState | None = None
    seen_links: list[str] = Field(default_factory=list)
    event_budget: int = Field(default=2000, ge=100)  # continue as new past this many events


class RingBatch(_Model):
    """Links routed to the ring, the case of the alert's key, rings merged into this one."""

    links: list[Link] = Field(default_factory=list, max_length=100)
    cases: dict[str, str] = Field(default_factory=dict)  # key id -> its open case
    absorbed: list[RingState] = Field(default_factory=list)


class RingView(_Model):
    ring_id: str
    size: int
    status: RingStatus


class MergeInput(_Model):
    into: str


class RingActionInput(_Model):
    """An officer's action on the whole ring (the bodies of the case actions)."""

    action: OfficerAction
    actor: Actor
    reason: Reason
    assignee: OfficerId | None = None
    text: str | None = Field(default=None, max_length=2000)


class MemberTarget(_Model):
    key_id: str
    account_id: str
    case_id: str


class MemberOutcome(_Model):
    """One member case's answer to a fanned-out action: applied, or refused and why."""

    key_id: str
    account_id: str
    case_id: str
    applied: bool
    status: int  # as the case's own action route would answer: 200, 404 or 409
    code: str | None = None
    message: str | None = None
    result: OfficerActionResult | None = None


class RingActionResult(_Model):
    ring_id: str
    action: OfficerAction
    seq: int
    applied: int
    refused: int
    members: list[MemberOutcome]


class RingMembership(_Model):
    """The case's `ring` signal: the ring its key belongs to now."""

    ring_id: str
    size: int


class FanOutInput(_Model):
    ring_id: str
    seq: int
    command: RingActionInput
    targets: list[MemberTarget]


class FanOutResult(_Model):
    outcomes: list[MemberOutcome]


class TellInput(_Model):
    ring_id: str
    exchange: str
    size: int
    tell: list[MemberTarget] = Field(default_factory=list)
    raise_severity: list[MemberTarget] = Field(default_factory=list)


class TellResult(_Model):
    told: int
    raised: int


class RingActivity:
    FAN_OUT = "fan_out_ring_action"
    TELL_MEMBERS = "tell_ring_members"


@dataclass
class Changes:
    """What one batch did to the ring."""

    joined: list[tuple[str, str]] = field(default_factory=list)  # (account, key) new to the ring
    new_cases: list[MemberTarget] = field(default_factory=list)  # keys whose case came to be known
    merged: list[str] = field(default_factory=list)
    links: int = 0
    formed: bool = False  # the ring has two members for the first time


def _add_key(
    state: dict[str, RingMember],
    account: str,
    key: str,
    case: str | None,
    now: datetime,
    changes: Changes,
) -> None:
    member = state.get(account)
    if member is None:
        member = RingMember(account_id=account, joined_at=now)
    keys = {k.key_id: k for k in member.keys}
    known = keys.get(key)
    if known is None:
        changes.joined.append((account, key))
        known = MemberKey(key_id=key)
    if case is not None and known.case_id != case:
        # A new case of the key (the last one ended): it is told and raised afresh.
        known = known.model_copy(update={"case_id": case, "told": None, "raised": False})
        changes.new_cases.append(MemberTarget(key_id=key, account_id=account, case_id=case))
    keys[key] = known
    state[account] = member.model_copy(update={"keys": list(keys.values())})


def absorb(
    state: RingState, batch: RingBatch, seen: set[str], now: datetime
) -> tuple[RingState, Changes]:
    """Apply a batch: new links (repeats dropped), the keys' cases, the rings merged in."""
    changes = Changes()
    members = {m.account_id: m for m in state.members}
    was_ring = len(members) >= 2
    fresh = [link for link in batch.links if link.link_id not in seen]
    owners = {link.key_a: link.account_a for link in batch.links} | {
        link.key_b: link.account_b for link in batch.links
    }
    for link in fresh:
        for account, key in ((link.account_a, link.key_a), (link.account_b, link.key_b)):
            _add_key(members, account, key, batch.cases.get(key), now, changes)
    for key_id, case in batch.cases.items():
        owner = owners.get(key_id) or next(
            (m.account_id for m in members.values() if any(k.key_id == key_id for k in m.keys)),
            None,
        )
        if owner is not None:
            _add_key(members, owner, key_id, case, now, changes)
    links = [*state.links, *fresh]
    merged_from = list(state.merged_from)
    decisions = list(state.decisions)
    for other in batch.absorbed:
        if other.ring_id in merged_from or other.ring_id == state.ring_id:
            continue
        merged_from.append(other.ring_id)
        changes.merged.append(other.ring_id)
        links += [link for link in other.links if link.link_id not in seen]
        for member in other.members:
            for entry in member.keys:
                before = len(changes.new_cases)
                _add_key(members, member.account_id, entry.key_id, entry.case_id, now, changes)
                if entry.raised:
                    _mark(members, member.account_id, entry.key_id, raised=True)
                if len(changes.new_cases) == before and entry.case_id is not None:
                    # Its case is known already, but it was told of the other ring.
                    changes.new_cases.append(
                        MemberTarget(
                            key_id=entry.key_id, account_id=member.account_id, case_id=entry.case_id
                        )
                    )
    changes.links = len(fresh)
    changes.formed = not was_ring and len(members) >= 2
    updated = state.model_copy(
        update={
            "members": list(members.values()),
            "links": links[-MAX_LINKS_KEPT:],
            "link_count": state.link_count
            + len(fresh)
            + sum(o.link_count for o in batch.absorbed if o.ring_id in changes.merged),
            "merged_from": merged_from,
            "decisions": decisions,
        }
    )
    return updated, changes


def _mark(members: dict[str, RingMember], account: str, key_id: str, **update: object) -> None:
    member = members[account]
    keys = [k.model_copy(update=update) if k.key_id == key_id else k for k in member.keys]
    members[account] = member.model_copy(update={"keys": keys})


def mark_keys(state: RingState, key_ids: set[str], **update: object) -> RingState:
    """The state with these keys' entries updated (told, raised)."""
    members = [
        m.model_copy(
            update={
                "keys": [k.model_copy(update=update) if k.key_id in key_ids else k for k in m.keys]
            }
        )
        for m in state.members
    ]
    return state.model_copy(update={"members": members})


def targets(state: RingState) -> list[MemberTarget]:
    """Every member key with a known case."""
    return [
        MemberTarget(key_id=k.key_id, account_id=m.account_id, case_id=k.case_id)
        for m in state.members
        for k in m.keys
        if k.case_id is not None
    ]


def to_tell(state: RingState) -> list[MemberTarget]:
    """Member cases not yet told they belong to this ring."""
    told = {k.key_id for m in state.members for k in m.keys if k.told == state.ring_id}
    return [t for t in targets(state) if t.key_id not in told]


def to_raise(state: RingState) -> list[MemberTarget]:
    """Member cases to raise to at least high: all not yet raised, once the ring is big enough."""
    if state.size < state.raised_at:
        return []
    raised = {k.key_id for m in state.members for k in m.keys if k.raised}
    return [t for t in targets(state) if t.key_id not in raised]


def reject_ring_action(state: RingState, command: RingActionInput) -> str | None:
    """Why the action cannot go to the ring's members now, or None."""
    if state.status is RingStatus.MERGED:
        return f"ring {state.ring_id} was merged into {state.merged_into}; act on that ring"
    if command.action not in RING_ACTIONS:
        return f"{command.action.value} is not a ring action"
    if not command.reason.strip():
        return "a reason is required"
    if command.action is OfficerAction.ASSIGN and not command.assignee:
        return "assign needs an assignee"
    if command.action is OfficerAction.ADD_NOTE and not (command.text or "").strip():
        return "a note needs text"
    if not targets(state):
        return "no member case is known yet"
    return None


def record_decision(state: RingState, decision: RingDecision) -> RingState:
    """Keep the decision (the latest MAX_DECISIONS_KEPT) and the standing one."""
    update: dict[str, object] = {
        "decisions": [*state.decisions, decision][-MAX_DECISIONS_KEPT:],
        "decision_count": decision.seq,
    }
    if decision.action in STANDING:
        update["standing"] = decision
    return state.model_copy(update=update)


def inherited(state: RingState, applied: int, refused: int) -> RingState:
    """The standing decision, counting the members that joined after it."""
    standing = state.standing
    if standing is None:
        return state
    counted = standing.model_copy(
        update={"applied": standing.applied + applied, "refused": standing.refused + refused}
    )
    decisions = [counted if d.seq == counted.seq else d for d in state.decisions]
    return state.model_copy(update={"standing": counted, "decisions": decisions})
