"""A recorded history with known differences between policies, as the audit log holds it.

Six cases, built with the same fact builders the workflow uses, opened 40 days ago:

- `key-a`, `key-b` (upbit, low): two alerts a day apart; the shipped ladder clears them.
- `key-c` (upbit, medium): alerts a day apart, re-verification passed the next day: warned
  on the second alert, then restored after probation.
- `key-d` (upbit), `key-e` (bithumb) (medium): two alerts an hour apart, no re-verification:
  warned, then expired at the deadline.
- `key-f` (bithumb, low): one alert, dismissed by an officer a day later.

STRICTER warns on a second low alert with a two-day deadline and on a first medium one:
key-a and key-b expire too, key-c is warned a day earlier. LAXER needs three medium alerts:
nothing is warned and key-c, key-d and key-e clear.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from domain import audit_events as facts
from domain import stage_rules
from domain.activity_io import AuditFact
from domain.alerts import Alert, AlertKind, Severity
from domain.case import ActionRecord, KycRecord
from domain.officer import OfficerAction
from domain.policy import LadderPolicy, parse_policy
from domain.stages import CaseStage

SHIPPED = (Path(__file__).parents[2] / "config" / "policy.toml").read_text(encoding="utf-8")
RUNNING: LadderPolicy = parse_policy(SHIPPED, "shipped")
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def _changed(version: str, *replacements: tuple[str, str]) -> str:
    text = SHIPPED.replace('version = "daxa-2026-1"', f'version = "{version}"')
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


STRICTER_TEXT = _changed(
    "stricter-1",
    ("escalate_after_alerts = 3", "escalate_after_alerts = 2"),  # low
    ('kyc_deadline = "P7D"', 'kyc_deadline = "P2D"'),  # low
    ('kyc_reminders_before = ["P2D", "P1D"]', 'kyc_reminders_before = ["P1D"]'),  # low
    (
        'escalate_after_alerts = 2\nkyc_deadline = "P5D"',
        'escalate_after_alerts = 1\nkyc_deadline = "P5D"',
    ),
)
LAXER_TEXT = _changed("laxer-1", ("escalate_after_alerts = 2", "escalate_after_alerts = 3"))


def seeded_facts(t0: datetime, prefix: str = "") -> list[AuditFact]:
    """The six cases' facts, opened at `t0`, in the order the cases recorded them.

    `prefix` goes before every key id, for many copies of the six.
    """
    recorded: list[AuditFact] = []
    spec = {
        "key-a": ("upbit", Severity.LOW, [t0, t0 + DAY]),
        "key-b": ("upbit", Severity.LOW, [t0, t0 + DAY]),
        "key-c": ("upbit", Severity.MEDIUM, [t0, t0 + DAY]),
        "key-d": ("upbit", Severity.MEDIUM, [t0, t0 + HOUR]),
        "key-e": ("bithumb", Severity.MEDIUM, [t0, t0 + HOUR]),
        "key-f": ("bithumb", Severity.LOW, [t0]),
    }
    for name, (exchange, severity, times) in spec.items():
        key_id = prefix + name
        state = stage_rules.open_case(
            f"{key_id}.run-1", key_id, f"acct-{key_id}", exchange, RUNNING, t0
        )
        recorded.append(facts.case_opened(state))
        for n, at in enumerate(times):
            alert = Alert(
                alert_id=f"sv-{key_id}-{n}",
                key_id=key_id,
                account_id=state.account_id,
                exchange=exchange,
                kind=AlertKind.KEY_SHARING,
                severity=severity,
                observed_at=at,
            )
            recorded.append(facts.alert_received(state, alert, at))
        if name == "key-c":
            result = KycRecord(
                passed=True,
                reference=f"kyc-{key_id}",
                actor="kyc-co",
                received_at=t0 + 2 * DAY,
                stage=CaseStage.AWAITING_KYC,
            )
            recorded.append(facts.kyc_result(state, result))
        if name == "key-f":
            action = ActionRecord(
                seq=1,
                action=OfficerAction.DISMISS,
                actor="kim",
                reason="registered market maker",
                at=t0 + DAY,
            )
            recorded.append(facts.officer_action(state, action))
    return recorded


def forty_days_ago() -> datetime:
    return (datetime.now(UTC) - 40 * DAY).replace(microsecond=0)
