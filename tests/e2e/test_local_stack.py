"""`keycase up` as a newcomer runs it: one command, URLs and tokens printed, Ctrl-C stops all."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.ports import free_ports

pytestmark = pytest.mark.e2e

KEYCASE = [sys.executable, "-m", "cli.commands"]


class UpProcess:
    """`keycase up` with its output read line by line in the background."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self.process = subprocess.Popen(
            [*KEYCASE, "up"],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, seconds: float = 120) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "\n".join(self.lines)
                continue
            self.lines.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines))

    def interrupt(self) -> int:
        """Ctrl-C, as the terminal sends it."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def keycase(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KEYCASE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_up_prints_urls_and_tokens_runs_the_demo_keeps_cases_and_ctrl_c_stops_all(
    tmp_path: Path,
) -> None:
    grpc, ui, api, temporal_http, metrics = free_ports(5)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYCASE_")}
    env |= {
        "KEYCASE_TEMPORAL_ADDRESS": f"127.0.0.1:{grpc}",
        "KEYCASE_TEMPORAL_UI_PORT": str(ui),
        "KEYCASE_API_PORT": str(api),
        "KEYCASE_TEMPORAL_HTTP_PORT": str(temporal_http),
        "KEYCASE_TEMPORAL_METRICS_PORT": str(metrics),
    }

    up = UpProcess(tmp_path, env)
    up.wait_for("keycase is running")
    assert f"http://127.0.0.1:{ui}/namespaces/default/workflows" in up.wait_for("Temporal UI")
    assert f"http://127.0.0.1:{api}" in up.wait_for(r"^\s+API\s")
    admin_line = up.wait_for(r"^\s+admin\s")
    saved = (tmp_path / ".keycase" / "api_tokens").read_text()
    assert admin_line.split()[-1] in saved
    assert (tmp_path / ".keycase" / "api_tokens").stat().st_mode & 0o077 == 0
    assert httpx.get(f"http://127.0.0.1:{ui}/", timeout=10).status_code == 200

    demo = keycase(tmp_path, env, "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    found = re.search(r"(demo-\w+-upbit-1\.\S+)", demo.stdout)
    assert found is not None, demo.stdout
    case_id = found.group(1)
    assert "the same alert again → duplicate" in demo.stdout
    for _ in range(20):  # Temporal's visibility catches up within moments
        listed = keycase(tmp_path, env, "cases")
        assert listed.returncode == 0, listed.stderr
        if "10 case(s)" in listed.stdout:
            break
        time.sleep(0.5)
    assert "10 case(s)" in listed.stdout

    assert up.interrupt() == 0
    assert all(port_is_free(port) for port in (grpc, ui, api, temporal_http, metrics)), (
        "a child outlived Ctrl-C"
    )

    again = UpProcess(tmp_path, env)
    again.wait_for("keycase is running")
    shown = keycase(tmp_path, env, "case", case_id)
    assert again.interrupt() == 0
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"case {case_id}" in shown.stdout
    assert "MONITORING" in shown.stdout
