"""What a benchmark drives: the local stack's API, its Temporal client, store and processes."""

import os
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from store.port import Store


@dataclass
class BenchStack:
    api_url: str
    tokens: dict[str, str]  # role -> bearer token
    temporal: Client
    store: Store  # the store, read directly as an auditor would
    pids: dict[str, int]  # process name -> pid (temporal server, worker-1, api)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for pid {pid}")
