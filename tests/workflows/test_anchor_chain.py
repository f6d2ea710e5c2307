"""The anchor workflow on the time-skipping server: real store, real signing, the data file."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.anchors import ANCHORS_FILE, AnchorPublisher
from config.signing import signature_checker
from domain.reports.schedules import ANCHOR_WORKFLOW, AnchorInput, AnchorResult
from store.anchors import parse_anchors_jsonl, stored_anchors, verify_anchored
from store.audit import append_facts
from store.engine import open_store
from tests.store.databases import sqlite_database
from tests.store.factories import T0, fact
from workflows.anchor_chain import AnchorChainWorkflow

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


async def test_each_run_anchors_the_head_once_in_the_store_and_the_file(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    store = open_store(sqlite_database(tmp_path))
    key = Ed25519PrivateKey.generate()
    publisher = AnchorPublisher(store, key, tmp_path, clock=lambda: NOW)
    queue = f"anchor-{uuid.uuid4().hex[:8]}"
    client = time_skipping_env.client

    async def run() -> AnchorResult:
        result: AnchorResult = await client.execute_workflow(
            ANCHOR_WORKFLOW,
            AnchorInput(),
            id=f"anchor-{uuid.uuid4().hex}",
            task_queue=queue,
            result_type=AnchorResult,
        )
        return result

    try:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[AnchorChainWorkflow],
            activities=[publisher.publish_anchor],
        ):
            empty = await run()
            await store.write(lambda c: append_facts(c, [fact("e1"), fact("e2")], T0))
            first = await run()
            again = await run()  # nothing appended since: the same anchor, no new row
            await store.write(lambda c: append_facts(c, [fact("e3")], T0))
            second = await run()

        anchors = await store.read(stored_anchors)
        in_file = parse_anchors_jsonl((tmp_path / ANCHORS_FILE).read_text())
        verified = await store.scan(
            lambda c: verify_anchored(c, signature_checker(key.public_key()))
        )
    finally:
        await store.close()

    assert empty == AnchorResult()
    assert (first.chain_seq, again.chain_seq, second.chain_seq) == (2, 2, 3)
    assert first.anchored_at == NOW
    assert [a.chain_seq for a in anchors] == [2, 3]
    assert in_file == anchors
    assert (verified.ok, verified.anchors_checked) == (True, 2)
