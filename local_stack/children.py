"""Child processes of the local stack, stopped in reverse start order."""

import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    stop_signal: signal.Signals
    log: IO[bytes] | None = None


class Children:
    """Owns the stack's processes; each runs in its own session so a Ctrl-C on the
    terminal reaches only `keycase up`, which then stops them in a safe order."""

    def __init__(self, env: dict[str, str], cwd: Path | None = None) -> None:
        self._env = env
        self._cwd = cwd
        self._children: list[Child] = []

    def start(
        self,
        name: str,
        argv: list[str],
        log_file: Path | None = None,
        stop_signal: signal.Signals = signal.SIGINT,
    ) -> Child:
        log = log_file.open("ab") if log_file else None
        process = subprocess.Popen(
            argv, env=self._env, cwd=self._cwd, stdout=log, stderr=log, start_new_session=True
        )
        child = Child(name, process, stop_signal, log)
        self._children.append(child)
        return child

    def exited(self) -> Child | None:
        """The first child that ended on its own, if any."""
        return next((c for c in self._children if c.process.poll() is not None), None)

    def stop_all(self, grace: float = 20.0) -> None:
        """Ask each child to stop, last started first; kill what outlives the grace period."""
        for child in reversed(self._children):
            if child.process.poll() is None:
                child.process.send_signal(child.stop_signal)
                try:
                    child.process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    os.killpg(child.process.pid, signal.SIGKILL)
                    child.process.wait()
            if child.log:
                child.log.close()
        self._children.clear()
