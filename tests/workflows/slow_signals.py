"""A case worker whose signal handlers can be made slow: a busy worker, in real time."""

import time
import uuid

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    HandleSignalInput,
    Interceptor,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from activities.policy import PolicyActivities, read_policy_file
from tests.workflows.conftest import CaseHarness, one_officer
from workflows.key_case import KeyCaseWorkflow

SLOW_SIGNAL_SECONDS = 0.4  # far past the last turn's 50 ms, far below the deadlock detector


class Switch:
    """Whether signal handlers are slow right now."""

    enabled = False


SLOW = Switch()


class _SlowSignals(WorkflowInboundInterceptor):
    async def handle_signal(self, input: HandleSignalInput) -> None:
        if SLOW.enabled:
            time.sleep(SLOW_SIGNAL_SECONDS)  # noqa: ASYNC251 - the task runs long, for real
        await super().handle_signal(input)


class _SlowSignalsInterceptor(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _SlowSignals


def slow_harness(env: WorkflowEnvironment) -> CaseHarness:
    """A harness on a task queue of its own, for `slow_worker`."""
    return CaseHarness(env, f"keycase-slow-{uuid.uuid4().hex}", one_officer(read_policy_file(None)))


def slow_worker(harness: CaseHarness) -> Worker:
    """The case worker, its signal handlers taking SLOW_SIGNAL_SECONDS while SLOW is on."""
    return Worker(
        harness.env.client,
        task_queue=harness.task_queue,
        workflows=[KeyCaseWorkflow],
        activities=[
            PolicyActivities(harness.policy).load_policy,
            harness.store.record_case_facts,
            harness.store.apply_key_measure,
            harness.notices.send_notice,
        ],
        interceptors=[_SlowSignalsInterceptor()],
        workflow_runner=UnsandboxedWorkflowRunner(),  # the interceptor sleeps for real
        workflow_failure_exception_types=[Exception],
    )
