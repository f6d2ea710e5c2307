"""Four eyes as pure rules: which actions wait, who may decide, when a request lapses."""

from datetime import timedelta
from importlib import resources

import pytest

from domain import case_reactions, four_eyes, stage_rules
from domain.actions import reject_action
from domain.alerts import Severity
from domain.audit_events import EventType
from domain.officer import ApproveInput, DismissInput, ExpireNowInput, OfficerAction
from domain.policy import FourEyesPolicy, PolicyError, parse_policy
from domain.stages import CaseStage
from tests.domain.case_builders import POLICY, T0, warned

NOW = T0 + timedelta(hours=1)


def _asked(severity: Severity = Severity.HIGH) -> case_reactions.Decision:
    command = ExpireNowInput(actor="kim", reason="lending")
    return case_reactions.on_action(
        warned(severity), OfficerAction.EXPIRE_NOW, command, POLICY, NOW, four_eyes_rules=True
    )


@pytest.mark.parametrize(
    ("severity", "waits"),
    [
        (Severity.LOW, False),
        (Severity.MEDIUM, False),
        (Severity.HIGH, True),
        (Severity.CRITICAL, True),
    ],
)
def test_the_shipped_policy_makes_high_and_critical_cases_wait(
    severity: Severity, waits: bool
) -> None:
    state, effects = _asked(severity)

    assert (state.pending_approval is not None) is waits
    assert (state.stage is CaseStage.EXPIRED) is not waits
    assert (effects.measure is None) is waits


def test_older_rules_apply_the_action_at_once() -> None:
    command = DismissInput(actor="kim", reason="maker")
    state, _ = case_reactions.on_action(warned(), OfficerAction.DISMISS, command, POLICY, NOW)

    assert state.stage is CaseStage.DISMISSED and state.pending_approval is None


def test_the_requester_may_not_decide_and_a_second_request_waits_its_turn() -> None:
    state, effects = _asked()

    own = reject_action(state, OfficerAction.APPROVE, ApproveInput(actor="kim", reason="y"), NOW)
    other = reject_action(state, OfficerAction.APPROVE, ApproveInput(actor="lee", reason="y"), NOW)
    second = reject_action(state, OfficerAction.DISMISS, DismissInput(actor="lee", reason="x"), NOW)

    assert own == "kim asked for expire_now and cannot approve it: a second officer must"
    assert other is None
    assert second is not None and "waiting for a second officer" in second
    assert [f.event_type for f in effects.facts] == [EventType.APPROVAL_REQUESTED]


def test_approval_applies_the_request_as_asked_and_records_both_officers() -> None:
    state, _ = _asked()
    approve = ApproveInput(actor="lee", reason="agreed")

    state, effects = case_reactions.on_action(state, OfficerAction.APPROVE, approve, POLICY, NOW)

    assert state.stage is CaseStage.EXPIRED and state.pending_approval is None
    assert state.stages[-1].actor == "kim" and "approved by lee" in state.stages[-1].reason
    decided = effects.facts[0]
    assert decided.event_type == EventType.APPROVAL_APPROVED
    assert (decided.actor, decided.payload["requested_by"]) == ("lee", "kim")
    assert effects.measure is not None and effects.measure.actor == "kim"


def test_a_request_lapses_at_the_end_of_its_window_and_wakes_the_case() -> None:
    state, _ = _asked()
    assert state.pending_approval is not None
    lapses = state.pending_approval.lapses_at

    early, early_effects = case_reactions.on_time(state, lapses - timedelta(seconds=1))
    late, late_effects = case_reactions.on_time(state, lapses)

    assert stage_rules.next_wakeup(state) == lapses == NOW + POLICY.four_eyes.window
    assert early.pending_approval is not None and early_effects.facts == ()
    assert late.pending_approval is None
    assert [f.event_type for f in late_effects.facts] == [EventType.APPROVAL_LAPSED]
    assert four_eyes.lapse_reason(late, lapses) is None


def test_the_shipped_table_is_the_default() -> None:
    assert POLICY.four_eyes == FourEyesPolicy()
    assert POLICY.four_eyes.window == timedelta(hours=24)


@pytest.mark.parametrize(
    ("table", "names"),
    [
        ('window = "PT0S"', "four_eyes: Value error, window must be longer than zero"),
        ('window = "tomorrow"', "four_eyes.window"),
        ('severities = ["urgent"]', "four_eyes.severities.0"),
        ('severities = ["high", "high"]', "severities names a severity twice"),
        ("quorum = 3", "four_eyes.quorum"),
    ],
)
def test_a_bad_four_eyes_table_fails_naming_the_field(table: str, names: str) -> None:
    text = _shipped_without_four_eyes() + f"\n[four_eyes]\n{table}\n"

    with pytest.raises(PolicyError) as error:
        parse_policy(text, "bad.toml")

    assert names in str(error.value)


def _shipped_without_four_eyes() -> str:
    text = resources.files("config").joinpath("policy.toml").read_text(encoding="utf-8")
    head, _, rest = text.partition("[four_eyes]")
    return head + rest[rest.index("\n[", 1) :] if rest else text
