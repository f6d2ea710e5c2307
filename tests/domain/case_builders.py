"""Builders for pure-rule tests: a policy, a case, alerts, at fixed times."""

from datetime import UTC, datetime, timedelta

from activities.policy import read_policy_file
from domain import stage_rules
from domain.alerts import Alert, AlertKind, Severity
from domain.case import CaseState
from domain.policy import LadderPolicy

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY: LadderPolicy = read_policy_file(None)


def alert(
    n: int, severity: Severity = Severity.MEDIUM, kind: AlertKind = AlertKind.KEY_SHARING
) -> Alert:
    """Alert number `n` on key-1."""
    return Alert(
        alert_id=f"a-{n}",
        key_id="key-1",
        account_id="acct-1",
        exchange="bithumb",
        kind=kind,
        severity=severity,
        observed_at=T0,
    )


def new_case() -> CaseState:
    """A case opened at T0 (no alerts yet)."""
    return stage_rules.open_case("key-1.run-1", "key-1", "acct-1", "bithumb", POLICY, T0)


def with_alerts(state: CaseState, *alerts: Alert, at: datetime = T0) -> CaseState:
    """The case after these alerts arrived at `at`."""
    return stage_rules.record_alerts(state, list(alerts), 0, POLICY, at)


def warned(severity: Severity = Severity.HIGH) -> CaseState:
    """A case warned at T0 + 1 minute."""
    state = with_alerts(new_case(), alert(1, severity))
    return stage_rules.start_warning(state, POLICY, T0 + timedelta(minutes=1), "test")
