"""The current workflow code replays every recorded case: running cases survive a deploy.

`histories/` keeps the history of each path (and each run of it) as some release recorded
it (`python -m tests.workflows.record_history`; release 2026-12's carry the prefix
`r2026_12_`); none is ever re-recorded or removed while a case of that release may still
be running (README, "Changing the case workflow").
"""

import gzip
import json
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.temporal import TEST_CONVERTER
from workflows.appeal import AppealWorkflow
from workflows.key_case import KeyCaseWorkflow

HISTORIES = Path(__file__).parent / "histories"
PATHS_RECORDED = 13  # main 5be4f76: standard expiry and twelve paths of record_history


def _load(path: Path) -> WorkflowHistory:
    raw = path.read_bytes()
    text = gzip.decompress(raw).decode() if path.suffix == ".gz" else raw.decode()
    return WorkflowHistory.from_json(f"keycase-{path.name}", json.loads(text))


async def test_every_recorded_history_replays_on_current_code() -> None:
    files = sorted(HISTORIES.glob("*.json")) + sorted(HISTORIES.glob("*.json.gz"))
    # debug_mode: no deadlock timer; a 2,000-signal turn may replay slower than 2 s on a
    # loaded machine, and only its determinism is under test here.
    replayer = Replayer(
        workflows=[KeyCaseWorkflow, AppealWorkflow], data_converter=TEST_CONVERTER, debug_mode=True
    )

    failures = {}
    for path in files:
        result = await replayer.replay_workflow(_load(path), raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures[path.name] = str(result.replay_failure)

    assert failures == {}
    assert len({path.name.split(".")[0] for path in files}) >= PATHS_RECORDED
