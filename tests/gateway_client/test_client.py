"""The gateway client against keycase's real API and store, on both databases."""

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx

from api.auth import Role
from config.settings import Settings
from domain.activity_io import ApplyKeyMeasureInput, KeyMeasure
from domain.gateway import GatewayReason, KeyView
from domain.keys import Permission
from keycase_gateway import GatewayClient
from store.access import access_entries, key_view
from store.port import Store
from store.registry import apply_measure, replace_allowed_ips
from tests.api.conftest import TOKENS, auth
from tests.gateway_client.conftest import base_url, serving
from tests.store.factories import T0, add_key

TOKEN = TOKENS[Role.GATEWAY][1]
WHITELIST = ["203.0.113.0/24", "198.51.100.7", "2001:db8:1::/48"]
# Every address form tests/domain/test_gateway.py and tests/api use: in and out of the
# whitelist, mapped and unmapped, hex and upper case, and addresses that do not parse.
ADDRESSES = [
    "203.0.113.0",
    "203.0.113.255",
    "198.51.100.7",
    "::ffff:198.51.100.7",
    "::ffff:203.0.113.128",
    "0:0:0:0:0:FFFF:CB00:7101",
    "2001:db8:1::1",
    "2001:db8:1:ffff:ffff:ffff:ffff:ffff",
    "2001:DB8:1:0:0:0:0:0",
    "203.0.112.255",
    "203.0.114.0",
    "198.51.100.8",
    "::ffff:198.51.100.8",
    "2001:db8:2::1",
    "2001:db8::ffff:ffff:ffff:ffff:ffff",
    "::198.51.100.7",
    "64:ff9b::198.51.100.7",
    "2002:c633:6407::",
    "::ffff:0:198.51.100.7",
    "garbage",
    "203.0.113.1 ",
    "203.000.113.1",
    "fe80::1%eth0",
    "203.0.113.0/24",
    "1",
]
SETTLE_SECONDS = 10.0


def _measure(key_id: str, what: KeyMeasure) -> ApplyKeyMeasureInput:
    return ApplyKeyMeasureInput(
        event_id=f"{key_id}.run-1:key:{what.value}",
        case_id=f"{key_id}.run-1",
        key_id=key_id,
        measure=what,
        reason="test",
        occurred_at=T0,
    )


async def _apply(store: Store, key_id: str, what: KeyMeasure) -> None:
    await store.write(lambda c: apply_measure(c, _measure(key_id, what), datetime.now(UTC)))


async def _converged(client: GatewayClient, store: Store, key_ids: list[str]) -> None:
    """Wait until the replica holds each key exactly as the registry does now."""
    wanted: dict[str, KeyView | None] = {}
    for key_id in key_ids:
        wanted[key_id] = await store.read(partial(key_view, key_id=key_id))
    async with asyncio.timeout(SETTLE_SECONDS):
        # The replica is plain data its feed task fills: there is no event to wait on.
        while any(client.replica.keys.get(k) != v for k, v in wanted.items()):  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_replica_decides_as_authorize_for_every_address_and_status(
    settings: Settings, listening: socket.socket, store: Store
) -> None:
    await add_key(store, "key-gw", allowed_ips=WHITELIST, permissions=["read", "trade"])
    url = base_url(listening)
    async with (
        serving(settings, listening),
        GatewayClient(url, TOKEN, staleness=60.0, report_every=0.05) as client,
        httpx.AsyncClient(base_url=url, headers=auth(Role.GATEWAY)) as http,
    ):
        await client.wait_caught_up(SETTLE_SECONDS)
        for measure in (None, KeyMeasure.MONITOR, KeyMeasure.RESTRICT, KeyMeasure.EXPIRE):
            if measure is not None:
                await _apply(store, "key-gw", measure)
            await _converged(client, store, ["key-gw", "key-none"])
            questions = [
                (key_id, ip, permission)
                for key_id in ("key-gw", "key-none")
                for ip in ADDRESSES
                for permission in Permission
            ]
            answers = await asyncio.gather(*(_authorize(http, *q) for q in questions))
            for (key_id, ip, permission), answer in zip(questions, answers, strict=True):
                local = client.decide(key_id, ip, permission)
                assert (local.allowed, local.reason.value) == answer, (measure, key_id, ip)


async def _authorize(
    http: httpx.AsyncClient, key_id: str, ip: str, permission: Permission
) -> tuple[bool, str]:
    body = {"ip": ip, "permission": permission.value}
    answer = (await http.post(f"/v1/keys/{key_id}/authorize", json=body)).json()
    return answer["allowed"], answer["reason"]


async def test_replica_converges_after_keycase_and_the_client_restart(
    settings: Settings, listening: socket.socket, store: Store
) -> None:
    keys = [f"key-r{n}" for n in range(5)]
    for n, key_id in enumerate(keys):
        await add_key(store, key_id, account_id=f"acc-r{n}")
    url = base_url(listening)
    async with GatewayClient(url, TOKEN, staleness=30.0, report_every=0.05) as client:
        async with serving(settings, listening):
            await client.wait_caught_up(SETTLE_SECONDS)
            await _converged(client, store, keys)
        # keycase is down; the worker expires a key, an admin changes a whitelist.
        await _apply(store, keys[0], KeyMeasure.EXPIRE)
        await store.write(lambda c: replace_allowed_ips(c, keys[1], ["198.51.100.0/24"]))
        async with serving(settings, listening):
            await _converged(client, store, keys)
            assert client.decide(keys[0], "203.0.113.5", Permission.READ).reason is (
                GatewayReason.EXPIRED
            )
            assert client.decide(keys[1], "198.51.100.9", Permission.READ).allowed
            await _apply(store, keys[2], KeyMeasure.RESTRICT)
            await _converged(client, store, keys)
    # A new client process starts from nothing and converges on the whole registry.
    await _apply(store, keys[3], KeyMeasure.MONITOR)
    async with serving(settings, listening), GatewayClient(url, TOKEN) as restarted:
        await restarted.wait_caught_up(SETTLE_SECONDS)
        await _converged(restarted, store, keys)
        assert restarted.replica.cursor == client.replica.cursor + 1


async def test_replica_fails_closed_past_the_staleness_bound_and_says_why(
    settings: Settings, listening: socket.socket, store: Store
) -> None:
    await add_key(store, "key-st")
    url = base_url(listening)
    client = GatewayClient(url, TOKEN, staleness=1.5)
    # Before its first answer from keycase the replica knows nothing, so it denies.
    assert client.decide("key-st", "203.0.113.5", Permission.READ).reason is (
        GatewayReason.REPLICA_STALE
    )
    async with serving(settings, listening):
        await client.start()
        await client.wait_caught_up(SETTLE_SECONDS)
        await asyncio.sleep(2.0)  # long polls keep it fresh past the bound
        assert client.decide("key-st", "203.0.113.5", Permission.READ).allowed
    await asyncio.sleep(2.0)  # keycase is down for longer than the bound
    decision = client.decide("key-st", "203.0.113.5", Permission.READ)
    assert (decision.allowed, decision.reason) == (False, GatewayReason.REPLICA_STALE)
    stale_for = client.replica.stale_for()
    assert stale_for is not None and stale_for > 0
    async with serving(settings, listening):
        async with asyncio.timeout(SETTLE_SECONDS):
            while not client.decide("key-st", "203.0.113.5", Permission.READ).allowed:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        await client.close()


async def test_decisions_are_reported_into_the_access_log_once(
    settings: Settings, listening: socket.socket, store: Store
) -> None:
    await add_key(store, "key-log", account_id="acc-log")
    url = base_url(listening)
    since = datetime.now(UTC) - timedelta(seconds=1)
    async with serving(settings, listening):
        async with GatewayClient(url, TOKEN, report_every=0.05) as client:
            await client.wait_caught_up(SETTLE_SECONDS)
            client.decide("key-log", "::ffff:203.0.113.7", Permission.TRADE)
            client.decide("key-log", "198.51.100.1", Permission.READ)
        # close() reported what was queued; a resent batch adds nothing.
        batch = {
            "batch_id": "resent-batch-1",
            "decisions": [
                {
                    "key_id": "key-log",
                    "ip": "203.0.113.8",
                    "permission": "read",
                    "allowed": True,
                    "reason": "allowed",
                    "decided_at": datetime.now(UTC).isoformat(),
                }
            ],
        }
        async with httpx.AsyncClient(base_url=url, headers=auth(Role.GATEWAY)) as http:
            first = await http.post("/v1/access-reports", json=batch)
            again = await http.post("/v1/access-reports", json=batch)
            refused = await http.post("/v1/access-reports", json={"batch_id": "x", "decisions": []})
            officer = await http.post("/v1/access-reports", json=batch, headers=auth(Role.OFFICER))
    assert (first.json(), again.json()) == ({"recorded": 1}, {"recorded": 0})
    assert (refused.status_code, officer.status_code) == (422, 403)
    logged = await store.read(lambda c: access_entries(c, "key-log", since))
    assert [(e.ip, e.permission, e.allowed, e.reason, e.account_id, e.network) for e in logged] == [
        ("203.0.113.7", "trade", True, "allowed", "acc-log", "203.0.113.0/24"),
        ("198.51.100.1", "read", False, "ip_not_whitelisted", "acc-log", "198.51.100.0/24"),
        ("203.0.113.8", "read", True, "allowed", "acc-log", "203.0.113.0/24"),
    ]
