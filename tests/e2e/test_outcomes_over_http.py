"""Outcomes to surveillance end to end: signed pushes through a minute of refusals and a
killed worker, each outcome taken exactly once, and `GET /v1/outcomes` paged meanwhile."""

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stack import RunningStack, running_stack
from tests.e2e.test_keycase_over_http import Key, raise_alert, register_key, wait_for_stage
from tests.fakes.outcome_receiver import OutcomeReceiver

pytestmark = pytest.mark.e2e

SECRET = "e2e-outcome-secret-0123456789"
REFUSING_SECONDS = 60.0


async def _page_until(
    stack: RunningStack, stop: asyncio.Event, paged: list[dict[str, Any]], pages: list[int]
) -> None:
    """Follow `GET /v1/outcomes` with small pages while cases end, until told and caught up."""
    cursor = 0
    async with stack.http("surveillance") as surveillance:
        while True:
            response = await surveillance.get("/v1/outcomes", params={"since": cursor, "limit": 3})
            assert response.status_code == 200, response.text
            page = response.json()
            paged.extend(page["outcomes"])
            pages.append(len(page["outcomes"]))
            cursor = page["cursor"]
            if stop.is_set() and not page["more"]:
                return
            if not page["more"]:
                await asyncio.sleep(0.3)


async def _end_cases(stack: RunningStack) -> dict[str, str]:
    """Cases to every ending; the outcome expected for each alert id."""
    expected: dict[str, str] = {}
    cleared = [await register_key(stack, x) for x in ("upbit", "korbit", "gopax")]
    dismissed = [await register_key(stack, x) for x in ("coinone", "bithumb")]
    expired = [await register_key(stack, x) for x in ("upbit", "bithumb")]
    restored = await register_key(stack, "korbit")
    opened: list[tuple[Key, str]] = []
    for key, severity in [
        *((k, "low") for k in cleared),
        *((k, "medium") for k in dismissed),
        *((k, "critical") for k in expired),
        (restored, "high"),
    ]:
        accepted = await raise_alert(stack, key, severity, f"sv-{key.key_id}-1")
        opened.append((key, accepted["case_id"]))
    second = await raise_alert(stack, cleared[0], "low", f"sv-{cleared[0].key_id}-2")
    assert second["status"] == "attached"
    outcome_of = {k.key_id: "cleared" for k in cleared}
    outcome_of |= {k.key_id: "dismissed" for k in dismissed}
    outcome_of |= {k.key_id: "confirmed" for k in expired} | {restored.key_id: "restored"}
    for key, _ in opened:
        expected[f"sv-{key.key_id}-1"] = outcome_of[key.key_id]
    expected[f"sv-{cleared[0].key_id}-2"] = "cleared"
    cases = dict((k.key_id, c) for k, c in opened)
    async with stack.http("officer") as officer:
        for key in dismissed:
            await wait_for_stage(stack, cases[key.key_id], "MONITORING")
            response = await officer.post(
                f"/v1/cases/{cases[key.key_id]}/actions/dismiss",
                json={"reason": "registered market maker"},
            )
            assert response.is_success, response.text
    await wait_for_stage(stack, cases[restored.key_id], "AWAITING_KYC")
    async with stack.http("kyc") as kyc:
        response = await kyc.post(
            f"/v1/cases/{cases[restored.key_id]}/kyc", json={"passed": True, "reference": "k-1"}
        )
        assert response.is_success, response.text
    for key, case_id in opened:
        ending = {"cleared": "CLEARED", "dismissed": "DISMISSED", "confirmed": "EXPIRED"}
        await wait_for_stage(stack, case_id, ending.get(outcome_of[key.key_id], "RESTORED"), 60)
    return expected


async def _taken_all(receiver: OutcomeReceiver, count: int, seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while len(receiver.taken) < count:
        assert asyncio.get_running_loop().time() < deadline, f"{len(receiver.taken)}/{count}"
        await asyncio.sleep(0.5)


async def test_each_outcome_reaches_surveillance_signed_once_through_refusals_and_a_kill(
    tmp_path: Path,
) -> None:
    receiver = OutcomeReceiver(SECRET)
    receiver.fail_for(REFUSING_SECONDS)
    env = {
        "KEYCASE_OUTCOME_WEBHOOK_URL": f"{receiver.url}/keycase/outcomes",
        "KEYCASE_OUTCOME_WEBHOOK_SECRET": SECRET,
        "KEYCASE_OUTCOME_PUSH_RETRY_INITIAL": "PT1S",
        "KEYCASE_OUTCOME_PUSH_RETRY_MAX": "PT5S",
        "KEYCASE_OUTCOME_PUSH_DRAIN": "PT10S",
    }
    try:
        async with running_stack(tmp_path, workers=2, extra_env=env) as stack:
            paged: list[dict[str, Any]] = []
            pages: list[int] = []
            stop = asyncio.Event()
            reader = asyncio.create_task(_page_until(stack, stop, paged, pages))
            expected = await _end_cases(stack)
            assert receiver.taken == []  # still refusing
            stack.kill_worker(0)  # whichever held the drain, the push goes on from the store
            await _taken_all(receiver, len(expected), REFUSING_SECONDS + 60)
            await asyncio.sleep(3)  # time for a repeat to show, were there one
            stop.set()
            await reader
    finally:
        receiver.close()

    taken = [o["outcome_id"] for o in receiver.taken]
    assert len(taken) == len(set(taken)) == len(expected)
    assert {o["alert_id"]: o["outcome"] for o in receiver.taken} == expected
    assert [o["seq"] for o in receiver.taken] == list(range(1, len(expected) + 1))
    assert receiver.refused > 0 and receiver.bad_signatures == 0
    assert [o["seq"] for o in paged] == list(range(1, len(expected) + 1))  # no gap, no repeat
    assert paged == receiver.taken
    assert sum(1 for n in pages if n) > 1  # paged while cases ended, not in one read
    dismissals = {o["reason"] for o in paged if o["outcome"] == "dismissed"}
    assert dismissals == {"registered market maker"}
