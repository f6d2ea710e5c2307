"""What a case costs the Temporal cluster: history events and workflow tasks."""

from temporalio.api.enums.v1 import EventType

from domain.alerts import Severity
from domain.stages import CaseStage
from tests.workflows.conftest import CaseHarness

# Start 5 + first task's commands 11 (three patch markers, the 2026-12 release's,
# ring-membership's and four eyes', each with the TemporalChangeVersion search attribute
# that comes with it — see test below for how many upserts —, policy marker, key-flag marker
# carrying the facts, search attributes, warning scheduled, reminder timer) + warning sent 7
# (activity started and completed, task, stage marker, search attributes) + two reminders 11
# each (timer, task, notice, next timer, notice done, task) + deadline 7 (timer, task, expire
# marker, search attributes, expiry notice) + expiry sent 6 (notice done, task, completion)
# = 58. Each notice records its own outcome fact, so a sent notice adds no marker; and the
# run ends in the turn after the expiry notice, which runs no local activity.
MAX_EVENTS_STANDARD_EXPIRY = 58
MAX_TASKS_STANDARD_EXPIRY = 8


async def test_standard_expiry_path_stays_within_event_and_task_budget(
    harness: CaseHarness,
) -> None:
    handle = await harness.open(Severity.HIGH)
    state = await handle.result()
    assert state.stage is CaseStage.EXPIRED

    history = await handle.fetch_history()
    events = len(history.events)
    tasks = sum(
        1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    )
    print(f"standard expiry path: {events} history events, {tasks} workflow tasks")
    assert events <= MAX_EVENTS_STANDARD_EXPIRY
    assert tasks <= MAX_TASKS_STANDARD_EXPIRY
