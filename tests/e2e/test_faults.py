"""Cases through faults, small: SIGKILLed workers, a dev server restart, failing providers.

The same run as the `faults` benchmark (bench/faults.py) at a size for the suite: every
case reaches its expected end, no provider gets a message twice, expired keys are denied
and the audit chain verifies.
"""

from pathlib import Path

import pytest

from bench.faults import run_faults

pytestmark = pytest.mark.e2e


async def test_every_case_reaches_its_end_once_through_kills_restarts_and_provider_errors(
    tmp_path: Path,
) -> None:
    run = await run_faults(tmp_path, cases=6, kills=3)

    print(f"faults: {run}")
    assert run.faults >= 3 + 1 + 2  # kills, the restart, and provider errors actually served
    assert run.lost == []
    assert run.ended == run.expected
    assert run.duplicated == 0
    assert run.expired_allowed == []
    assert run.chain_ok
