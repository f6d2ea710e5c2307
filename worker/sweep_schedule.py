"""The Temporal Schedule that starts a detection sweep every `[detection] every` (default 1 min).

Overlap SKIP: a sweep still running when the next is due makes that one skip, and the
watermark in the store lets the following sweep catch up. Made or updated idempotently
by `keycase up` and `keycase detect schedule`; shown on the Temporal UI's Schedules page.
"""

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from domain.detection.sweep import SWEEP_SCHEDULE_ID, SWEEP_WORKFLOW, SweepInput

# A sweep missed while the server was down is not worth replaying one by one: the next
# one reads everything from the watermark anyway.
CATCHUP_WINDOW = timedelta(minutes=1)


def sweep_schedule(task_queue: str, every: timedelta) -> Schedule:
    """The schedule as keycase wants it."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SWEEP_WORKFLOW,
            SweepInput(),
            id=SWEEP_SCHEDULE_ID,  # the server appends each start's time
            task_queue=task_queue,
            static_summary="keycase detection sweep over the gateway's access log",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP, catchup_window=max(CATCHUP_WINDOW, every)
        ),
        state=ScheduleState(note=f"detection sweep every {every}"),
    )


async def ensure_sweep_schedule(client: Client, task_queue: str, every: timedelta) -> bool:
    """Create the schedule, or bring an existing one to this interval; True if created."""
    schedule = sweep_schedule(task_queue, every)
    try:
        await client.create_schedule(SWEEP_SCHEDULE_ID, schedule)
        return True
    except ScheduleAlreadyRunningError:
        pass

    def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=schedule)

    await client.get_schedule_handle(SWEEP_SCHEDULE_ID).update(replace)
    return False
