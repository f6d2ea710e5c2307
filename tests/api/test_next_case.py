"""A key's next case, opened by an alert that reached its last case as that one ended.

The case here runs on a worker of the test's own (the real workflow, with the store and
notices of tests/workflows/fakes.py) so that its warning can be held in flight: an
officer dismisses the case meanwhile, and its run cannot end before the send does.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from activities.policy import read_policy_file
from api.auth import Role
from api.intake import signal_with_start
from domain.alerts import Alert
from domain.audit_events import EventType
from domain.notices import NoticeKind
from tests.api.conftest import POLICY, auth
from tests.api.support import alert_for, get_case, raise_alert, register_key, wait_for_stage
from tests.workflows.conftest import CaseHarness, case_worker, end_cases, one_officer


@pytest_asyncio.fixture
async def harness(dev_env: WorkflowEnvironment) -> AsyncIterator[CaseHarness]:
    # One officer dismisses the high case here; four eyes has its own tests.
    policy = one_officer(read_policy_file(POLICY))
    harness = CaseHarness(dev_env, f"keycase-next-{uuid.uuid4().hex[:8]}", policy)
    harness.notices.held.add(NoticeKind.WARNING)
    async with case_worker(harness):
        yield harness
        await end_cases(harness)


async def _cases_of(http: httpx.AsyncClient, key_id: str) -> dict[str, dict[str, Any]]:
    response = await http.get("/v1/cases", params={"key_id": key_id}, headers=auth(Role.OFFICER))
    assert response.status_code == 200, response.text
    return {case["case_id"]: case for case in response.json()["cases"]}


async def test_an_alert_reaching_an_ending_case_is_answered_with_it_and_opens_the_next(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    key = await register_key(http)
    client = harness.env.client
    first, _ = await signal_with_start(
        Alert.model_validate(alert_for(key, "high")), harness.task_queue, client
    )
    await wait_for_stage(http, first, "WARNED")
    dismissed = await http.post(
        f"/v1/cases/{first}/actions/dismiss",
        json={"reason": "known market maker"},
        headers=auth(Role.OFFICER),
    )
    late = alert_for(key, "medium")  # one medium alert: the next case stays in monitoring
    late_answer = await raise_alert(http, late)
    harness.notices.release.set()
    listed = await _listed_with_next_case(http, key.key_id, first)
    [nxt] = [case_id for case_id in listed if case_id != first]
    ended, next_case = await get_case(http, first), await get_case(http, nxt)
    again = await raise_alert(http, alert_for(key, "medium"))
    refused = await http.post(
        f"/v1/cases/{first}/actions/note",
        json={"reason": "follow-up", "text": "seen"},
        headers=auth(Role.OFFICER),
    )

    assert dismissed.status_code == 200, dismissed.text
    # The run that took the alert was still the dismissed case's: the answer says so,
    # and that case's audit trail says where the alert went.
    assert late_answer == {"case_id": first, "status": "attached"}
    [passed_on] = harness.store.of_type(EventType.ALERT_PASSED_ON)
    assert (passed_on.case_id, passed_on.payload["alert_id"]) == (first, late["alert_id"])

    assert (ended["stage"], ended["alerts"]["count"]) == ("DISMISSED", 1)
    assert next_case["stage"] == "MONITORING"
    assert next_case["alerts"]["recent_ids"][0] == late["alert_id"]
    assert again == {"case_id": nxt, "status": "attached"}
    assert {case_id: (c["stage"], c["running"]) for case_id, c in listed.items()} == {
        first: ("DISMISSED", False),
        nxt: ("MONITORING", True),
    }
    assert refused.status_code == 409, refused.text


async def _listed_with_next_case(
    http: httpx.AsyncClient, key_id: str, first: str
) -> dict[str, dict[str, Any]]:
    """The key's cases once one after `first` is listed with its stage.

    Visibility shows a new run a moment before the search attributes of its first turn.
    """
    for _ in range(150):
        listed = await _cases_of(http, key_id)
        if len(listed) > 1 and all(case["stage"] for case in listed.values()):
            return listed
        await asyncio.sleep(0.1)
    raise AssertionError(f"no case listed after {first}")
