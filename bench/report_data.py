"""Stored facts for reports: one long case, and a month of cases with known counts.

Written through the store's own functions (audit appends, outbox claims), exactly as the
worker's activities leave them, so the reports read what production would.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from domain.activity_io import AuditFact
from domain.notices import Channel, DeliveryStatus
from domain.reports.kst import KST
from store.audit import append_facts
from store.outbox import OutboxSends
from store.port import Store

KOREAN_WARNING = (
    "안녕하세요, 업비트 고객님.\n\n고객님의 API 키({key})에서 다음과 같은 이용이 감지되었습니다.\n"
    "- API 키를 다른 사람에게 빌려주거나 여러 사람이 함께 사용한 것으로 보이는 정황\n\n"
    "기한까지 IP 화이트리스트 등록과 본인 확인 재인증을 완료해 주세요."
)


def _fact(
    case_id: str,
    key_id: str,
    n: str,
    event_type: str,
    at: datetime,
    actor: str = "keycase",
    **payload: Any,
) -> AuditFact:
    return AuditFact(
        event_id=f"{case_id}:{n}",
        event_type=event_type,
        case_id=case_id,
        key_id=key_id,
        actor=actor,
        occurred_at=at,
        payload=payload,
    )


@dataclass(frozen=True)
class CaseSpec:
    """One seeded case: what happened and when (minutes after it opened)."""

    case_id: str
    exchange: str
    kind: str
    severity: str
    opened_at: datetime
    detector: str | None = None
    ending: str | None = None  # EXPIRED, RESTORED, DISMISSED, CLEARED or None (still open)
    warned_after: int | None = None  # minutes
    expired_after: int | None = None
    closed_after: int | None = None
    notices: tuple[tuple[str, str], ...] = ()  # (channel, final status) of the warning
    notes: int = 0  # extra officer notes (a long case)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key_id(self) -> str:
        return self.case_id.split(".", 1)[0]


def case_facts(spec: CaseSpec) -> Iterator[AuditFact]:
    """The audit facts of `spec`, in the order a case records them."""
    c, k, t0 = spec.case_id, spec.key_id, spec.opened_at
    yield _fact(
        c,
        k,
        "opened",
        "case.opened",
        t0,
        account_id=f"acct-{k}",
        exchange=spec.exchange,
        policy_version="bench-1",
    )
    evidence = {"detector": spec.detector, "score": 3} if spec.detector else {"shared_ips": 4}
    actor = "detection" if spec.detector else "radar"
    yield _fact(
        c,
        k,
        "alert",
        "alert.received",
        t0,
        actor,
        alert_id=f"al-{k}",
        kind=spec.kind,
        severity=spec.severity,
        observed_at=t0.isoformat(),
        evidence=evidence,
        account_id=f"acct-{k}",
        exchange=spec.exchange,
    )
    yield _fact(
        c,
        k,
        "stage:1",
        "stage.changed",
        t0,
        stage="MONITORING",
        reason="case opened",
        severity=spec.severity,
    )
    yield _fact(
        c,
        k,
        "key:monitor",
        "key.status_changed",
        t0,
        measure="monitor",
        **{"from": "ACTIVE", "to": "MONITORED"},
        reason="case opened",
    )
    for n in range(spec.notes):
        yield _fact(
            c,
            k,
            f"action:{n + 1}",
            "officer.action",
            t0 + timedelta(seconds=n),
            "kim",
            seq=n + 1,
            action="add_note",
            reason=f"review {n + 1}",
            text=f"looked at batch {n + 1}",
        )
    if spec.warned_after is not None:
        at = t0 + timedelta(minutes=spec.warned_after)
        yield _fact(
            c,
            k,
            "stage:2",
            "stage.changed",
            at,
            stage="WARNED",
            reason="1 alert(s), severity high",
            severity=spec.severity,
        )
        channels = [
            {
                "channel": ch,
                "status": "sent",
                "outbox_id": f"ob-{k}-{ch}",
            }
            for ch, status in spec.notices
        ]
        yield _fact(
            c,
            k,
            "notice:warning",
            "notice.sent",
            at,
            notice_id="warning",
            kind="warning",
            deadline=None,
            channels=channels,
        )
        for ch, status in spec.notices:
            if status in ("delivered", "failed"):
                yield _fact(
                    c,
                    k,
                    f"delivery:{ch}",
                    "notice.delivery",
                    at + timedelta(minutes=1),
                    notice_id="warning",
                    channel=ch,
                    status=status,
                    outbox_id=f"ob-{k}-{ch}",
                    occurred_at=(at + timedelta(minutes=1)).isoformat(),
                    detail=None,
                )
    if spec.ending == "DISMISSED" and spec.closed_after is not None:
        at = t0 + timedelta(minutes=spec.closed_after)
        yield _fact(
            c,
            k,
            "action:dismiss",
            "officer.action",
            at,
            "kim",
            seq=spec.notes + 1,
            action="dismiss",
            reason="false positive: shared office NAT",
        )
    if spec.ending == "EXPIRED" and spec.expired_after is not None:
        at = t0 + timedelta(minutes=spec.expired_after)
        yield _fact(
            c,
            k,
            "key:expire",
            "key.status_changed",
            at,
            measure="expire",
            **{"from": "MONITORED", "to": "EXPIRED"},
            reason="deadline passed",
        )
        yield _fact(
            c,
            k,
            "key:expire:read-back",
            "key.expiry_read_back",
            at,
            status="EXPIRED",
            usable_permissions=[],
            gateway_reason="key_expired",
            expired_at=at.isoformat(),
        )
    if spec.ending is not None and spec.closed_after is not None:
        at = t0 + timedelta(minutes=spec.closed_after)
        yield _fact(
            c,
            k,
            "stage:9",
            "stage.changed",
            at,
            stage=spec.ending,
            reason="bench ending",
            severity=spec.severity,
        )
        yield _fact(c, k, "closed", "case.closed", at, stage=spec.ending, alerts=1)


def _notices(connection: Connection, spec: CaseSpec) -> None:
    if spec.warned_after is None:
        return
    at = spec.opened_at + timedelta(minutes=spec.warned_after)
    sends = OutboxSends(connection)
    for ch, status in spec.notices:
        entry = sends.claim(
            case_id=spec.case_id,
            notice_id="warning",
            channel=Channel(ch),
            notice="warning",
            subject="[업비트] API 키 이용 경고" if ch == "email" else None,
            body=KOREAN_WARNING.format(key=spec.key_id),
            recipient_hint=None,
            now=at,
        )
        sends.begin_attempt(entry.outbox_id, "o***@example.com", at)
        provider = "sendgrid" if ch == "email" else "twilio"
        sends.mark_sent(entry.outbox_id, provider, f"msg-{spec.key_id}-{ch}", at)
        if status in ("delivered", "failed"):
            later = at + timedelta(minutes=1)
            sends.apply_event(entry.outbox_id, DeliveryStatus(status), provider, None, None, later)


async def seed_cases(store: Store, specs: list[CaseSpec], now: datetime, batch: int = 200) -> int:
    """Write every spec's facts and notices; returns how many audit rows were appended."""
    appended = 0
    for start in range(0, len(specs), batch):
        chunk = specs[start : start + batch]
        facts = [fact for spec in chunk for fact in case_facts(spec)]

        def work(
            connection: Connection, chunk: list[CaseSpec] = chunk, facts: list[AuditFact] = facts
        ) -> int:
            for spec in chunk:
                _notices(connection, spec)
            return append_facts(connection, facts, now)

        appended += await store.bulk(work)
    return appended


def long_case(rows: int, opened_at: datetime = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)) -> CaseSpec:
    """An expired case of about `rows` audit rows (mostly officer notes)."""
    return CaseSpec(
        case_id="key-long.0001",
        exchange="upbit",
        kind="key_sharing",
        severity="high",
        opened_at=opened_at,
        ending="EXPIRED",
        warned_after=5,
        expired_after=60 * 24 * 3,
        closed_after=60 * 24 * 3,
        notices=(("email", "delivered"), ("sms", "sent")),
        notes=max(0, rows - 11),
    )


def _kst(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=KST)


def november_specs() -> list[CaseSpec]:
    """November 2026 with known figures (see tests/reports/test_monthly.py), plus one case
    just before and one just after the month in KST, which must not count."""
    day, hours = 60 * 24, 60
    return [
        CaseSpec(
            "key-a.01",
            "upbit",
            "key_sharing",
            "high",
            _kst(11, 2),
            "shared_origin",
            "EXPIRED",
            30,
            3 * day,
            3 * day,
            (("email", "delivered"), ("sms", "sent")),
        ),
        CaseSpec(
            "key-b.01",
            "upbit",
            "key_sharing",
            "high",
            _kst(11, 3),
            "shared_origin",
            "EXPIRED",
            90,
            2 * day,
            2 * day,
            (("email", "failed"), ("sms", "delivered")),
        ),
        CaseSpec(
            "key-c.01",
            "upbit",
            "key_sharing",
            "high",
            _kst(11, 10),
            "shared_origin",
            "DISMISSED",
            None,
            None,
            2 * hours,
        ),
        CaseSpec(
            "key-d.01",
            "bithumb",
            "ip_anomaly",
            "medium",
            _kst(11, 16),
            None,
            "CLEARED",
            None,
            None,
            3 * day,
        ),
        CaseSpec("key-e.01", "bithumb", "ip_anomaly", "medium", _kst(11, 30, 23, 30)),
        CaseSpec(
            "key-f.01",
            "upbit",
            "wash_trading",
            "low",
            _kst(11, 20),
            None,
            "RESTORED",
            10 * hours,
            None,
            10 * day,
            (("email", "delivered"), ("sms", "delivered")),
        ),
        CaseSpec("key-g.01", "upbit", "spoofing", "critical", _kst(12, 1, 0, 10)),
        CaseSpec("key-h.01", "upbit", "spoofing", "critical", _kst(10, 31, 23, 50)),
    ]


def month_of_cases(count: int, month: int = 11) -> list[CaseSpec]:
    """`count` cases spread over the month, with every outcome, exchange and source."""
    exchanges = ("upbit", "bithumb", "coinone", "korbit", "gopax")
    kinds = ("key_sharing", "ip_anomaly", "spoofing", "wash_trading")
    severities = ("low", "medium", "high", "critical")
    detectors = (None, "shared_origin", "many_networks")
    endings = ("EXPIRED", "RESTORED", "DISMISSED", "CLEARED", None)
    specs = []
    for n in range(count):
        ending = endings[n % 5]
        opened = _kst(month, 1 + n % 28, n % 24, n % 60)
        warned = (n % 300) + 5 if ending in ("EXPIRED", "RESTORED") else None
        specs.append(
            CaseSpec(
                case_id=f"key-m{n:06d}.01",
                exchange=exchanges[n % 5],
                kind=kinds[n % 4],
                severity=severities[(n // 5) % 4],
                opened_at=opened,
                detector=detectors[n % 3],
                ending=ending,
                warned_after=warned,
                expired_after=(n % 5000) + 600 if ending == "EXPIRED" else None,
                closed_after=(n % 5000) + 600 if ending else None,
                notices=(("email", "delivered"), ("sms", "sent")) if warned else (),
            )
        )
    return specs
