"""A lean HTTP/1.1 keep-alive load generator on asyncio streams.

httpx costs several hundred microseconds of CPU per request, which on a 2-core machine
would be charged to the server under test; raw keep-alive connections cost a few tens.
"""

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: Any = None


@dataclass
class LoadResult:
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # seconds, one per response
    elapsed: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


class Connection:
    """One keep-alive connection; requests on it are sent one at a time."""

    def __init__(self, base_url: str, token: str) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, request: Request) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        body = b"" if request.body is None else json.dumps(request.body).encode()
        head = (
            f"{request.method} {request.path} HTTP/1.1\r\nHost: {self._host}\r\n{self._auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self._writer.write(head.encode() + body)
        status_line = await self._reader.readline()
        length = 0
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return int(status_line.split()[1]), await self._reader.readexactly(length)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


async def closed_loop(
    base_url: str, token: str, make: Callable[[int], Request], count: int, connections: int
) -> LoadResult:
    """`count` requests as fast as `connections` keep-alive connections allow."""
    result, numbers = LoadResult(), iter(range(count))

    async def drive() -> None:
        conn = Connection(base_url, token)
        try:
            for n in numbers:
                began = time.perf_counter()
                status, _ = await conn.request(make(n))
                result.latencies.append(time.perf_counter() - began)
                result.statuses[status] = result.statuses.get(status, 0) + 1
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(drive() for _ in range(connections)))
    result.elapsed = time.perf_counter() - started
    return result


async def open_loop(
    base_url: str,
    token: str,
    make: Callable[[int], Request],
    rate: float,
    seconds: float,
    connections: int = 64,
) -> LoadResult:
    """Requests issued on a fixed schedule (`rate` a second), whatever the server's pace.

    Latency is counted from each request's scheduled time, so a stalled server cannot
    hide queueing (no coordinated omission)."""
    result = LoadResult()
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(Connection(base_url, token))
    pending: set[asyncio.Task[None]] = set()

    async def one(n: int, scheduled: float) -> None:
        conn = await idle.get()
        try:
            status, _ = await conn.request(make(n))
        finally:
            idle.put_nowait(conn)
        result.latencies.append(time.perf_counter() - scheduled)
        result.statuses[status] = result.statuses.get(status, 0) + 1

    started = time.perf_counter()
    total = int(rate * seconds)
    for n in range(total):
        scheduled = started + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(n, scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    result.elapsed = time.perf_counter() - started
    while not idle.empty():
        await idle.get_nowait().close()
    return result
