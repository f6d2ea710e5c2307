"""Facts of ended cases, made by the same pure rules the workflow runs."""

from datetime import timedelta

from domain import case_reactions
from domain.activity_io import AuditFact
from domain.officer import OfficerAction, OfficerInput
from tests.domain.case_builders import POLICY, T0, alert, new_case

LATER = T0 + timedelta(days=10)


def dismissed_case(case_id: str, alerts: int) -> tuple[list[AuditFact], list[AuditFact]]:
    """The facts of a case that received `alerts` alerts, then of an officer dismissing it."""
    state = new_case().model_copy(update={"case_id": case_id})
    prefix = "" if case_id.endswith("run-1") else f"{case_id}-"  # alert ids are global
    received = [alert(n).model_copy(update={"alert_id": f"{prefix}a-{n}"}) for n in range(alerts)]
    state, arrival = case_reactions.on_alerts(state, received, 0, POLICY, T0)
    command = OfficerInput(actor="kim", reason="registered market maker")
    state, ending = case_reactions.on_action(state, OfficerAction.DISMISS, command, POLICY, LATER)
    return list(arrival.facts), list(ending.facts)


def cleared_case(case_id: str) -> list[AuditFact]:
    state = new_case().model_copy(update={"case_id": case_id})
    state, arrival = case_reactions.on_alerts(state, [alert(9)], 0, POLICY, T0)
    assert state.monitoring_until is not None
    state, ending = case_reactions.on_time(state, state.monitoring_until)
    assert state.stage.value == "CLEARED"
    return [*arrival.facts, *ending.facts]
