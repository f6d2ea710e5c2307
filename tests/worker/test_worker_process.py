"""`keycase worker` refuses to start on a bad policy, before it takes any case."""

import os
import subprocess
import sys
from pathlib import Path


def test_worker_with_a_bad_policy_file_exits_naming_the_file_and_field(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('version = "broken"\n[severity.low]\nmonitoring_window = "3 days"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYCASE_")}
    env |= {"KEYCASE_POLICY_FILE": str(policy), "KEYCASE_TEMPORAL_ADDRESS": "127.0.0.1:1"}

    result = subprocess.run(
        [sys.executable, "-m", "cli.commands", "worker"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert str(policy) in result.stderr
    assert "monitoring_window" in result.stderr
