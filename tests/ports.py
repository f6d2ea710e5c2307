"""Free ports for the servers tests start, chosen where no server picks its own at random.

The dev server opens more ports than it is told to (its history, matching and worker
services take random ports from the kernel's ephemeral range, and so would its HTTP and
metrics ports if not pinned). A port a test probed in that range can therefore be taken
by the dev server before the test's own process binds it. Ports here come from below the
ephemeral range, probed free, and all at once so that they differ from each other.
"""

import random
import socket
from pathlib import Path

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10_000
_FALLBACK_EPHEMERAL_START = 32_768  # Linux's default


def _ephemeral_start() -> int:
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _FALLBACK_EPHEMERAL_START


def free_ports(count: int) -> list[int]:
    """`count` distinct ports on 127.0.0.1 that are free now and outside the ephemeral range."""
    top = _ephemeral_start() - 1
    held: list[socket.socket] = []
    try:
        while len(held) < count:
            probe = socket.socket()
            try:
                probe.bind(("127.0.0.1", random.randint(_LOWEST, top)))
            except OSError:
                probe.close()  # taken (perhaps by a parallel test run): try another
                continue
            held.append(probe)
        return [probe.getsockname()[1] for probe in held]
    finally:
        for probe in held:
            probe.close()


def free_port() -> int:
    """One port as `free_ports` picks them."""
    return free_ports(1)[0]
