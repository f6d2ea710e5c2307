"""The report Schedules: the audit anchor every `anchor_every`, the monthly report on the 1st.

The monthly one fires at 09:00 on the 1st in Asia/Seoul and writes the month before into
the data folder. Both are made or updated idempotently by `keycase up` and
`keycase report schedule`; they show on the Temporal UI's Schedules page.
"""

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from domain.reports.schedules import (
    ANCHOR_SCHEDULE_ID,
    ANCHOR_WORKFLOW,
    MONTHLY_SCHEDULE_ID,
    MONTHLY_WORKFLOW,
    REPORT_TIME_ZONE,
    AnchorInput,
    MonthlyInput,
)


def anchor_schedule(task_queue: str, every: timedelta) -> Schedule:
    """Sign the chain's head every `every` (a missed one is not replayed: the next covers it)."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ANCHOR_WORKFLOW,
            AnchorInput(),
            id=ANCHOR_SCHEDULE_ID,
            task_queue=task_queue,
            static_summary="keycase: sign the audit chain's head into audit_anchors",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=every),
        state=ScheduleState(note=f"audit anchor every {every}"),
    )


def monthly_schedule(task_queue: str) -> Schedule:
    """The month before, written at 09:00 KST on the 1st (caught up for a day if missed)."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            MONTHLY_WORKFLOW,
            MonthlyInput(),
            id=MONTHLY_SCHEDULE_ID,
            task_queue=task_queue,
            static_summary="keycase monthly report (the month before) into the data folder",
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    day_of_month=[ScheduleRange(1)],
                    hour=[ScheduleRange(9)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                )
            ],
            time_zone_name=REPORT_TIME_ZONE,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
        state=ScheduleState(note="monthly report, 1st 09:00 Asia/Seoul"),
    )


async def _ensure(client: Client, schedule_id: str, schedule: Schedule) -> bool:
    try:
        await client.create_schedule(schedule_id, schedule)
        return True
    except ScheduleAlreadyRunningError:
        pass

    def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=schedule)

    await client.get_schedule_handle(schedule_id).update(replace)
    return False


async def ensure_report_schedules(client: Client, task_queue: str, anchor_every: timedelta) -> None:
    """Create both Schedules, or bring existing ones to these settings."""
    await _ensure(client, ANCHOR_SCHEDULE_ID, anchor_schedule(task_queue, anchor_every))
    await _ensure(client, MONTHLY_SCHEDULE_ID, monthly_schedule(task_queue))
