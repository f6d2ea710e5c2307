"""`keycase worker` refuses to start on a bad policy, before it takes any case."""

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

SHIPPED = resources.files("config").joinpath("policy.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('version = "broken"\n[severity.low]\nmonitoring_window = "3 days"\n', "monitoring_window"),
        (SHIPPED.replace('window = "PT24H"', 'window = "a day"'), "four_eyes.window"),
    ],
    ids=["ladder", "four eyes"],
)
def test_worker_with_a_bad_policy_file_exits_naming_the_file_and_field(
    tmp_path: Path, text: str, field: str
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(text)
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
    assert field in result.stderr
