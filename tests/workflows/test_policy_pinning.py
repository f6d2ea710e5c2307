"""A case keeps the policy it started with; a new policy applies to new cases only."""

import uuid
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from activities.policy import read_policy_file
from domain.alerts import Severity
from domain.policy import LadderPolicy
from domain.stages import CaseStage
from tests.workflows.conftest import CaseHarness, case_worker, end_cases


def _faster(policy: LadderPolicy) -> LadderPolicy:
    high = policy.for_severity(Severity.HIGH).model_copy(
        update={"kyc_deadline": timedelta(days=1), "kyc_reminders_before": ()}
    )
    return policy.model_copy(
        update={"version": "daxa-2026-2", "severity": {**policy.severity, Severity.HIGH: high}}
    )


async def test_running_case_keeps_its_policy_after_worker_loads_a_new_one(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    old = read_policy_file(None)
    harness = CaseHarness(time_skipping_env, f"keycase-test-{uuid.uuid4().hex}", old)
    async with case_worker(harness, sticky=False):
        running = await harness.open(Severity.HIGH)
        await harness.until(running, lambda s: s.stage is CaseStage.AWAITING_KYC)

    try:
        async with case_worker(
            harness, _faster(old), sticky=False
        ):  # a redeploy with a new policy file
            newer = await harness.open(Severity.HIGH)
            fresh = await harness.until(newer, lambda s: s.stage is CaseStage.AWAITING_KYC)
            kept = await running.result()
    finally:
        await end_cases(harness)

    assert kept.policy_version == "daxa-2026-1"
    assert kept.kyc_deadline is not None and kept.kyc_requested_at is not None
    assert kept.kyc_deadline - kept.kyc_requested_at == timedelta(days=3)
    assert kept.stage is CaseStage.EXPIRED
    assert fresh.policy_version == "daxa-2026-2"
    assert fresh.kyc_deadline is not None and fresh.kyc_requested_at is not None
    assert fresh.kyc_deadline - fresh.kyc_requested_at == timedelta(days=1)
