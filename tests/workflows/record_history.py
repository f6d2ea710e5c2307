"""Record the standard expiry path's history for the replay test.

Run after a deliberate change to the workflow's commands (and say so in the commit):

    .venv/bin/python -m tests.workflows.record_history

It runs a high-severity case to expiry on the time-skipping server, with the fake store
and notices, and writes `tests/workflows/histories/standard_expiry.json`.
"""

import asyncio
import uuid
from pathlib import Path

from activities.policy import read_policy_file
from domain.alerts import Severity
from tests.temporal import time_skipping_server
from tests.workflows.conftest import CaseHarness, case_worker

HISTORY = Path(__file__).parent / "histories" / "standard_expiry.json"


async def record() -> None:
    """Run the standard expiry path and write its history."""
    async with time_skipping_server() as env:
        policy = read_policy_file(None)
        harness = CaseHarness(env, f"keycase-record-{uuid.uuid4().hex}", policy)
        async with case_worker(harness):
            handle = await harness.send(harness.make_alert("key-replay-1", Severity.HIGH))
            await handle.result()
            history = await handle.fetch_history()
        HISTORY.write_text(history.to_json(), encoding="utf-8")
        print(f"wrote {HISTORY} ({len(history.events)} events)")


if __name__ == "__main__":
    asyncio.run(record())
