"""Hostile requests beside real ones: the gateway's `authorize` p99 during a callback flood.

Attackers post 4 MiB Twilio status callbacks with a forged signature (about 400,000 form
fields each; the signature can only be checked over the parsed fields), half declaring
their length and half chunked, as fast as their connections allow, while
the gateway asks `authorize` at a steady rate. Before callbacks were bounded, each such
request took seconds of the API's event loop to parse before its 401.
"""

import asyncio
import contextlib
from urllib.parse import urlsplit

from bench.figures import Report, percentile
from bench.loadgen import Request, open_loop
from bench.population import new_keys, register
from bench.stack import BenchStack

CALLBACK_BYTES = 4 * 1024 * 1024
_FORM = (b"&".join(b"f%d=1" % n for n in range(400_000)))[:CALLBACK_BYTES]


async def callback_flood(
    stack: BenchStack, report: Report, seconds: float, rate: float = 200, attackers: int = 4
) -> None:
    """`authorize` at `rate` a second for `seconds`, alone and then under the flood."""
    keys = new_keys("hostile", 20)
    await register(stack.api_url, stack.tokens["admin"], keys)

    def decide(n: int) -> Request:
        path = f"/v1/keys/{keys[n % 20].key_id}/authorize"
        return Request("POST", path, {"ip": "203.0.113.7", "permission": "trade"})

    name = "hostile callbacks"
    quiet = await open_loop(stack.api_url, stack.tokens["gateway"], decide, rate, seconds)
    refused: dict[int, int] = {}
    stop = asyncio.Event()
    flood = [
        asyncio.create_task(_attack(stack.api_url, chunked=bool(n % 2), stop=stop, seen=refused))
        for n in range(attackers)
    ]
    try:
        await asyncio.sleep(0.2)  # the flood is on before the first measured request
        loud = await open_loop(stack.api_url, stack.tokens["gateway"], decide, rate, seconds)
    finally:
        stop.set()
        await asyncio.gather(*flood)
    for result in (quiet, loud):
        if set(result.statuses) != {200}:
            raise RuntimeError(f"authorize answered {result.statuses} during the flood")
    report.add(name, "forged 4 MiB callbacks sent", sum(refused.values()), "requests")
    # 0: the server answered 413 and hung up while the body was still coming (a reset).
    report.add(name, "refused (413/401) or cut off", _refused(refused), "requests")
    wrong = sum(refused.values()) - _refused(refused)
    report.add(name, "callbacks taken or failing (2xx/5xx)", wrong, "requests", "= 0", wrong == 0)
    report.add(name, f"authorize p99 at {rate:g}/s, no flood", _p99(quiet.latencies), "ms")
    p99 = _p99(loud.latencies)
    report.add(name, f"authorize p99 at {rate:g}/s, during flood", p99, "ms", "<= 50", p99 <= 50)


def _p99(latencies: list[float]) -> float:
    return percentile(latencies, 99) * 1000


def _refused(statuses: dict[int, int]) -> int:
    return sum(statuses.get(status, 0) for status in (0, 401, 413))


async def _attack(base_url: str, chunked: bool, stop: asyncio.Event, seen: dict[int, int]) -> None:
    """Post unsigned callbacks one after another until told to stop; count the answers."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    while not stop.is_set():
        status = await _one_callback(host, port, chunked)
        seen[status] = seen.get(status, 0) + 1


async def _one_callback(host: str, port: int, chunked: bool) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    framing = "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {len(_FORM)}\r\n"
    head = (
        f"POST /v1/webhooks/twilio HTTP/1.1\r\nHost: {host}\r\n"
        f"X-Twilio-Signature: Zm9yZ2VkIHNpZ25hdHVyZQ==\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n"
    )
    try:
        writer.write(head.encode())
        for offset in range(0, len(_FORM), 64 * 1024):
            piece = _FORM[offset : offset + 64 * 1024]
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except OSError:
        pass  # the server answered and hung up before the whole body was sent: as it should
    try:
        status_line = await asyncio.wait_for(reader.readline(), timeout=30)
        status = int(status_line.split()[1]) if status_line else 0
    except (OSError, TimeoutError, IndexError, ValueError):
        status = 0
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return status
