"""A movable alarm: one durable timer for a case's next due time.

Messages wake the case often (a flood of alerts), but its next due time rarely changes,
so the timer is kept across wake-ups and only replaced when the time moves (a deadline
extension, a new stage). That keeps timer events out of a busy case's history.
"""

import asyncio
from datetime import datetime

from temporalio import workflow

# workflow.patched id of the change that stopped cancelling timers that may have fired.
TIMERS_RUN_OUT = "timers-run-out"


class Alarm:
    """Rings once the workflow clock reaches the time it is set to."""

    def __init__(self) -> None:
        self._at: datetime | None = None
        self._timer: asyncio.Task[None] | None = None

    def set(self, at: datetime | None, summary: str) -> None:
        """Ring at `at` (None: never); keeps the running timer if the time is unchanged."""
        if at == self._at and at is not None:
            return
        self._cancel()
        self._at = at
        if at is None:
            return
        delay = at - workflow.now()
        if delay.total_seconds() > 0:
            self._timer = asyncio.create_task(workflow.sleep(delay, summary=summary))

    @property
    def rang(self) -> bool:
        """The set time has come."""
        return self._at is not None and (self._timer is None or self._timer.done())

    def _cancel(self) -> None:
        if self._timer is not None and not self._timer.done():
            due = self._at is not None and self._at <= workflow.now()
            if not (due and workflow.patched(TIMERS_RUN_OUT)):
                self._timer.cancel()
        self._timer = None
