"""In-memory fakes of the case's side effects, registered under the real activity names."""

import asyncio
from dataclasses import dataclass, field

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.activity_io import (
    ActivityName,
    ApplyKeyMeasureInput,
    AuditFact,
    ChannelOutcome,
    KeyStateResult,
    RecordCaseFactsInput,
    RecordCaseFactsResult,
    SendNoticeInput,
    SendNoticeResult,
)
from domain.audit_events import key_status, notice_sent, refused_by_the_log
from domain.gateway import KeyView, standing
from domain.keys import KeyStatus, Permission
from domain.notices import Channel, DeliveryStatus, NoticeKind
from domain.registry import status_after, usable_permissions

_ALLOWED_IPS = ("203.0.113.7",)


@dataclass
class FakeStore:
    """The audit log and key registry: facts deduplicated by event id, key statuses.

    Statuses, usable permissions and the gateway's answer follow the domain's own rules.
    """

    facts: dict[str, AuditFact] = field(default_factory=dict)
    keys: dict[str, KeyStatus] = field(default_factory=dict)
    measures: list[ApplyKeyMeasureInput] = field(default_factory=list)
    fact_writes: int = 0
    unknown_keys: set[str] = field(default_factory=set)
    refusing: set[str] = field(default_factory=set)  # event types refused as a whole write

    def append(self, facts: list[AuditFact]) -> int:
        new = [f for f in facts if f.event_id not in self.facts]
        self.facts.update((f.event_id, f) for f in new)
        return len(new)

    def of_type(self, event_type: str) -> list[AuditFact]:
        return [f for f in self.facts.values() if f.event_type == event_type]

    @activity.defn(name=ActivityName.RECORD_CASE_FACTS)
    async def record_case_facts(self, request: RecordCaseFactsInput) -> RecordCaseFactsResult:
        self.fact_writes += 1
        if any(f.event_type in self.refusing for f in request.facts):
            raise ApplicationError("the store refused the write", non_retryable=True)
        taken, refused = refused_by_the_log(request.facts)
        return RecordCaseFactsResult(appended=self.append(taken), refused=refused)

    @activity.defn(name=ActivityName.APPLY_KEY_MEASURE)
    async def apply_key_measure(self, request: ApplyKeyMeasureInput) -> KeyStateResult:
        if request.key_id in self.unknown_keys:
            raise ApplicationError(f"unknown key {request.key_id}", non_retryable=True)
        self.measures.append(request)
        before = self.keys.get(request.key_id, KeyStatus.ACTIVE)
        after = status_after(before, request.measure)
        self.keys[request.key_id] = after
        self.append([*request.facts, key_status(request, before, after)])
        view = KeyView(request.key_id, "acct-1", after, tuple(Permission), _ALLOWED_IPS)
        return KeyStateResult(
            key_id=request.key_id,
            status=after,
            permissions=usable_permissions(view.permissions, after),
            allowed_ips=list(_ALLOWED_IPS),
            expired_at=request.occurred_at if after is KeyStatus.EXPIRED else None,
            gateway_reason=standing(view, request.occurred_at).value,
            changed=after is not before,
        )


@dataclass
class FakeNotices:
    """Sends nothing; records each request and answers per channel (a channel can fail).

    Like `send_notice`, it records each notice's outcome fact, in `store`.
    """

    store: FakeStore = field(default_factory=FakeStore)  # where the outcome facts go
    sent: list[SendNoticeInput] = field(default_factory=list)
    failing: set[Channel] = field(default_factory=set)
    failing_for: dict[str, set[Channel]] = field(default_factory=dict)  # by notice id
    held: set[NoticeKind] = field(default_factory=set)  # these wait for `release`
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def ids(self) -> list[str]:
        return [n.notice_id for n in self.sent]

    @activity.defn(name=ActivityName.SEND_NOTICE)
    async def send_notice(self, request: SendNoticeInput) -> SendNoticeResult:
        if request.notice in self.held:
            await self.release.wait()
        if request.notice_id not in self.ids():
            self.sent.append(request)
        failing = self.failing | self.failing_for.get(request.notice_id, set())
        outcomes = [
            ChannelOutcome(
                channel=channel,
                status=DeliveryStatus.FAILED if channel in failing else DeliveryStatus.SENT,
                outbox_id=f"{request.case_id}:{request.notice_id}:{channel.value}",
                provider_message_id=None if channel in failing else f"msg-{len(self.sent)}",
                error="provider refused the address" if channel in failing else None,
            )
            for channel in request.channels
        ]
        self.store.append([notice_sent(request, outcomes, request.occurred_at)])
        return SendNoticeResult(notice_id=request.notice_id, outcomes=outcomes)
