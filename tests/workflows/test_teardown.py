"""Ending a test's cases leaves time skipping working for the tests after it.

The time-skipping server locks skipping while a workflow task or activity is in flight and
unlocks when the worker completes it; terminating the run first leaks the lock, and every
later wait for time to pass (a deadline, `env.sleep`) then takes real time. On a server
of its own, so that the failure this guards against cannot spread to other tests.
"""

import asyncio
from datetime import timedelta

from domain.alerts import Severity
from domain.stages import CaseStage
from tests.temporal import time_skipping_server
from tests.workflows.conftest import end_cases
from tests.workflows.slow_signals import SLOW, slow_harness, slow_worker


async def test_cases_ended_mid_task_leave_time_skipping_working() -> None:
    async with time_skipping_server() as env:
        harness = slow_harness(env)
        async with slow_worker(harness):
            handle = await harness.open(Severity.HIGH)
            state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)
            SLOW.enabled = True
            try:
                await harness.send(harness.make_alert(state.key_id, Severity.HIGH))
                await asyncio.sleep(0.1)  # the alert's workflow task is now in flight
                await end_cases(harness)
            finally:
                SLOW.enabled = False

        async with asyncio.timeout(10):  # days of workflow time, in moments when skipping
            await env.sleep(timedelta(days=7))
