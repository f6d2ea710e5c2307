"""The current workflow code replays a recorded case: running cases survive a deploy."""

import json
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.temporal import TEST_CONVERTER
from workflows.key_case import KeyCaseWorkflow

HISTORIES = Path(__file__).parent / "histories"


async def test_recorded_standard_expiry_history_replays_on_current_code() -> None:
    # Recorded before payloads were encrypted: the codec decodes plain payloads as they are.
    text = (HISTORIES / "standard_expiry.json").read_text(encoding="utf-8")
    history = WorkflowHistory.from_json("keycase-key-replay-1", json.loads(text))
    replayer = Replayer(workflows=[KeyCaseWorkflow], data_converter=TEST_CONVERTER)

    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)

    assert result.replay_failure is None
    assert len(history.events) > 40  # the whole path: warning, two reminders, expiry
