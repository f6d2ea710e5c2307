"""Rings end to end, over HTTP only: four accounts' keys used from one IP become one ring with
that IP as the reason; one expire-now on the ring expires all four keys, each owner gets one
expiry notice; a fifth account's key, used from another IP, stays out.

The e2e policy sweeps every two seconds; `shared_origin` needs three accounts on one origin.
"""

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.stack import RunningStack, running_stack

pytestmark = pytest.mark.e2e

_runs = itertools.count(1)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    data_dir: Path = tmp_path_factory.mktemp("keycase-rings-e2e")
    async with running_stack(data_dir, workers=1, sweeps=True) as running:
        print(f"e2e logs in {running.logs}")
        yield running


async def register(stack: RunningStack, name: str, n: int, ip: str) -> dict[str, str]:
    owner = {"account_id": f"acct-{name}", "email": f"{name}@example.com"}
    async with stack.http("admin") as admin:
        account = {**owner, "phone": f"+8210666{n:05d}", "locale": "ko"}
        assert (await admin.post("/v1/accounts", json=account)).is_success
        key = {
            "key_id": f"key-{name}",
            "account_id": owner["account_id"],
            "exchange": "upbit",
            "permissions": ["read", "trade"],
            "allowed_ips": [ip],
        }
        response = await admin.post("/v1/keys", json=key)
        assert response.is_success, response.text
    return {**owner, "key_id": f"key-{name}"}


async def authorize(stack: RunningStack, key_id: str, ip: str) -> dict[str, Any]:
    async with stack.http("gateway") as gateway:
        response = await gateway.post(
            f"/v1/keys/{key_id}/authorize", json={"ip": ip, "permission": "trade"}
        )
    assert response.status_code == 200, response.text
    decision: dict[str, Any] = response.json()
    return decision


async def get(stack: RunningStack, path: str, **params: Any) -> Any:
    async with stack.http("officer") as officer:
        response = await officer.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def eventually(check: Any, seconds: float = 90) -> Any:
    """`check()`'s answer once it is truthy, polling."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not (answer := await check()):
        assert asyncio.get_running_loop().time() < deadline, "gave up waiting"
        await asyncio.sleep(0.5)
    return answer


async def test_four_accounts_from_one_ip_are_one_ring_and_one_expire_now_ends_them_all(
    stack: RunningStack,
) -> None:
    run = f"r{next(_runs)}{uuid.uuid4().hex[:4]}"
    shared, elsewhere = "198.51.100.77", "192.0.2.41"
    ring_owners = [await register(stack, f"{run}-{n}", n, shared) for n in range(4)]
    outsider = await register(stack, f"{run}-out", 9, elsewhere)
    for owner in ring_owners:
        assert (await authorize(stack, owner["key_id"], shared))["allowed"] is True
    assert (await authorize(stack, outsider["key_id"], elsewhere))["allowed"] is True
    accounts = {o["account_id"] for o in ring_owners}

    async def our_ring() -> dict[str, Any] | None:
        page = await get(stack, "/v1/rings", exchange="upbit", min_size=2)
        for listed in page["rings"]:
            ring: dict[str, Any] = await get(stack, f"/v1/rings/{listed['ring_id']}")
            members = {m["account_id"] for m in ring["members"]}
            cased = [k for m in ring["members"] for k in m["keys"] if k["case_id"]]
            if members & accounts and len(cased) == 4:
                return ring
        return None

    ring = await eventually(our_ring)

    assert {m["account_id"] for m in ring["members"]} == accounts
    assert outsider["account_id"] not in {m["account_id"] for m in ring["members"]}
    assert {link["origin"] for link in ring["links"]} == {f"ip:{shared}"}
    assert {link["kind"] for link in ring["links"]} == {"shared_origin"}
    cases = {k["key_id"]: k["case_id"] for m in ring["members"] for k in m["keys"]}
    for case_id in cases.values():
        case = await get(stack, f"/v1/cases/{case_id}")
        assert case["ring_id"] == ring["ring_id"]
        assert case["severity"] in ("high", "critical")  # a ring of four raises its members
    assert (await get(stack, "/v1/cases", key_id=outsider["key_id"]))["cases"] == []

    async with stack.http("officer") as officer:
        response = await officer.post(
            f"/v1/rings/{ring['ring_id']}/actions/expire-now",
            json={"reason": "four accounts traded by one borrower"},
        )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["applied"] == 4 and answer["refused"] == 0
    assert {m["case_id"] for m in answer["members"]} == set(cases.values())

    for key_id, case_id in cases.items():

        async def expired(case_id: str = case_id) -> dict[str, Any] | None:
            case: dict[str, Any] = await get(stack, f"/v1/cases/{case_id}")
            done = case["stage"] == "EXPIRED" and case["notices"][-1]["completed_at"]
            return case if done else None

        case = await eventually(expired)
        assert case["actions"][-1]["ring_id"] == ring["ring_id"]
        decision = await authorize(stack, key_id, shared)
        assert decision["allowed"] is False and "expired" in decision["reason"]

    await asyncio.sleep(2)  # a second expiry notice, were there one, would be out by now
    for owner in ring_owners:
        case = await get(stack, f"/v1/cases/{cases[owner['key_id']]}")
        expiry = {
            c["outbox_id"] for n in case["notices"] if n["kind"] == "expiry" for c in n["channels"]
        }
        mails = [m for m in stack.sendgrid.accepted if m.to == owner["email"]]
        assert sum(1 for m in mails if m.custom_args.get("outbox_id") in expiry) == 1
    assert not [m for m in stack.sendgrid.accepted if m.to == outsider["email"]]

    async with stack.http("officer") as officer:
        missing = await officer.get("/v1/rings/ring-00000000000000000000")
        malformed = await officer.post("/v1/rings/nonsense/actions/note", json={"reason": "x"})
    assert missing.status_code == 404 and malformed.status_code == 404
