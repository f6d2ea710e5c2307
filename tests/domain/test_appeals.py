"""The appeal rules: the policy's [appeals] table, when an appeal or a replacement is refused."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.policy_file import read_appeals_policy
from domain import audit_events
from domain.alerts import Alert, AlertKind, Severity
from domain.appeal_cases import ended_case_from_audit
from domain.appeals import (
    AppealDecision,
    AppealRecord,
    AppealsPolicy,
    AppealState,
    AppealStatus,
    appeal_refusal,
    decided,
    decision_refusal,
    ended_case,
    expired_at,
    parse_appeals_policy,
    replacement_refusal,
)
from domain.case import CaseState, StageChange
from domain.policy import PolicyError, parse_policy
from domain.stages import CaseStage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = AppealsPolicy(window=timedelta(days=14), replacement_cooldown=timedelta(days=1))
CONFIG = Path(__file__).parents[2] / "config"


def _case(stage: CaseStage, at: datetime = T0) -> CaseState:
    return CaseState(
        case_id="key-1.run-1",
        key_id="key-1",
        account_id="acct-1",
        exchange="upbit",
        policy_version="v1",
        opened_at=at - timedelta(days=3),
        stage=stage,
        closed_at=at if not stage.is_open else None,
        stages=[StageChange(stage=stage, at=at, reason="deadline passed")],
    )


def _appeal(status: AppealStatus, **changes: object) -> AppealRecord:
    fields: dict[str, object] = {
        "case_id": "key-1.run-1",
        "key_id": "key-1",
        "account_id": "acct-1",
        "exchange": "upbit",
        "status": status,
        "statement": "my own second server",
        "filed_by": "help-desk",
        "filed_at": T0 + timedelta(hours=1),
        "expired_at": T0,
    }
    if status is AppealStatus.UPHELD:
        fields |= {"decided_by": "kim", "replacement_allowed_from": T0 + timedelta(days=2)}
    if status is AppealStatus.REJECTED:
        fields |= {"decided_by": "kim", "decision_reason": "lent to a bot operator"}
    return AppealRecord.model_validate(fields | changes)


def test_shipped_policies_carry_an_appeals_table() -> None:
    assert read_appeals_policy(None) == POLICY
    demo = read_appeals_policy(CONFIG / "demo_policy.toml")
    assert demo.window == timedelta(minutes=10)
    assert demo.replacement_cooldown == timedelta(seconds=30)


def test_a_file_without_appeals_gets_the_defaults_and_the_ladder_ignores_the_table() -> None:
    assert parse_appeals_policy('version = "x"', "p.toml") == AppealsPolicy()
    ladder = (CONFIG / "policy.toml").read_text()
    assert parse_policy(ladder, "policy.toml").version == "daxa-2026-1"


@pytest.mark.parametrize(
    ("table", "names"),
    [
        ('window = "P0D"', "appeals.window"),
        ('window = "P1M"', "appeals.window"),
        ('replacement_cooldown = "soon"', "appeals.replacement_cooldown"),
        ('replacement_cooldown = "P400D"', "P365D"),
        ("grace = 3", "appeals.grace"),
    ],
)
def test_bad_appeals_values_fail_naming_the_field(table: str, names: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_appeals_policy(f"[appeals]\n{table}\n", "bad.toml")

    assert "policy bad.toml" in str(error.value)
    assert names in str(error.value)


def test_an_expired_case_may_be_appealed_until_the_window_closes() -> None:
    case = _case(CaseStage.EXPIRED)

    assert expired_at(case) == T0
    assert appeal_refusal(ended_case(case), T0 + timedelta(days=14), POLICY) is None
    late = appeal_refusal(ended_case(case), T0 + timedelta(days=14, seconds=1), POLICY)
    assert late is not None
    assert "appeal window of case key-1.run-1 closed at 2026-03-16T09:00:00+00:00" in late
    assert "P14D after the expiry" in late


@pytest.mark.parametrize(
    "stage", [CaseStage.RESTORED, CaseStage.DISMISSED, CaseStage.CLEARED, CaseStage.AWAITING_KYC]
)
def test_a_case_that_did_not_expire_cannot_be_appealed(stage: CaseStage) -> None:
    refusal = appeal_refusal(ended_case(_case(stage)), T0, POLICY)

    assert refusal is not None
    assert f"is {stage.value}, not EXPIRED" in refusal


def test_an_upheld_decision_allows_a_replacement_after_the_cooldown() -> None:
    review = AppealState(case_id="key-1.run-1", key_id="key-1", filed_by="kim", filed_at=T0)
    decision = AppealDecision(upheld=True, actor="lee", reason="owner's own server")

    upheld = decided(review, decision, T0 + timedelta(hours=2), timedelta(days=1))

    assert upheld.status is AppealStatus.UPHELD
    assert upheld.replacement_allowed_from == T0 + timedelta(days=1, hours=2)
    assert decision_refusal(review, decision) is None
    again = decision_refusal(upheld, decision.model_copy(update={"upheld": False}))
    assert again == "the appeal of case key-1.run-1 was already upheld by lee: a decision is final"


def test_a_rejected_decision_allows_no_replacement() -> None:
    review = AppealState(case_id="key-1.run-1", key_id="key-1", filed_by="kim", filed_at=T0)

    rejected = decided(
        review,
        AppealDecision(upheld=False, actor="lee", reason="lent"),
        T0,
        POLICY.replacement_cooldown,
    )

    assert rejected.status is AppealStatus.REJECTED
    assert rejected.replacement_allowed_from is None


def test_replacement_rules() -> None:
    def refusal(
        appeal: AppealRecord | None, now: datetime = T0 + timedelta(days=3), **k: str
    ) -> str | None:
        new = {"new_key_id": "key-2", "account_id": "acct-1", "exchange": "upbit"} | k
        return replacement_refusal(appeal, "key-1", now=now, **new)

    assert refusal(_appeal(AppealStatus.UPHELD)) is None
    assert "has no appeal" in (refusal(None) or "")
    assert "has no appeal" in (refusal(_appeal(AppealStatus.UPHELD), account_id="acct-9") or "")
    assert "still under review" in (refusal(_appeal(AppealStatus.REVIEW)) or "")
    rejected = refusal(_appeal(AppealStatus.REJECTED)) or ""
    assert "rejected by kim: lent to a bot operator; a rejected appeal is final" in rejected
    early = refusal(_appeal(AppealStatus.UPHELD), now=T0 + timedelta(days=1)) or ""
    assert "may be registered from 2026-03-04T09:00:00+00:00" in early
    taken = _appeal(AppealStatus.UPHELD, replacement_key_id="key-7")
    assert refusal(taken) == "key key-1 was already replaced by key key-7"
    assert refusal(_appeal(AppealStatus.UPHELD, replacement_key_id="key-2")) is None  # a repeat


def test_an_expired_case_reads_back_from_its_audit_facts() -> None:
    expired = _case(CaseStage.EXPIRED).model_copy(update={"severity": Severity.HIGH})
    high = Alert(
        alert_id="a-1",
        key_id="key-1",
        account_id="acct-1",
        exchange="upbit",
        kind=AlertKind.IP_ANOMALY,
        severity=Severity.HIGH,
        observed_at=T0,
    )
    facts = [
        audit_events.case_opened(expired),
        audit_events.alert_received(expired, high, T0),
        audit_events.case_closed(expired),
    ]

    case = ended_case_from_audit(expired.case_id, facts)

    assert case is not None
    assert case == ended_case(expired).model_copy(update={"detected": [AlertKind.IP_ANOMALY]})
    assert ended_case_from_audit("key-1.run-2", facts[1:]) is None  # no case.opened fact
    still_open = ended_case_from_audit(expired.case_id, facts[:2])
    assert still_open is not None and still_open.expired_at is None
