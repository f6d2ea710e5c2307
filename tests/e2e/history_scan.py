"""Read every history a stack left and find what must not be there in plain text."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from payloads.codec import ENCODING

EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.]+")
PHONE = re.compile(rb"\+\d{8,15}")
# Plain by design: search attributes (indexed, never encrypted by Temporal), headers, and
# the SDK core's own marker bookkeeping: a local activity's seq, attempt, type and times
# (its result beside them is ciphertext) and a patch marker's patch id. Everything keycase
# sends must be ciphertext; the plain ones are still searched for contacts and secrets.
_PLAIN_FIELDS = (
    "search_attributes",
    "header",
    "marker_recorded_event_attributes.details[data]",
    "marker_recorded_event_attributes.details[patch-data]",
)


@dataclass
class Findings:
    """What a scan saw: counts, and every leak named by workflow and place."""

    histories: int = 0
    encrypted: int = 0
    plain: int = 0
    leaks: list[str] = field(default_factory=list)


def payloads_in(message: Message, path: str = "") -> Iterator[tuple[str, Payload]]:
    """Every Payload inside a protobuf message, with the field path that leads to it."""
    if isinstance(message, Payload):
        yield path, message
        return
    for descriptor, value in message.ListFields():
        name = f"{path}.{descriptor.name}"
        if descriptor.message_type is None:
            continue
        if descriptor.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if isinstance(item, Message):
                    yield from payloads_in(item, f"{name}[{key}]")
        elif descriptor.is_repeated:
            for index, item in enumerate(value):
                yield from payloads_in(item, f"{name}[{index}]")
        else:
            yield from payloads_in(value, name)


async def scan_histories(client: Client, secrets: list[str]) -> Findings:
    """Scan ids, search attributes, summaries and payloads of every workflow, raw and decoded."""
    found = Findings()
    codec = client.data_converter.payload_codec
    assert codec is not None, "the stack's client has no payload codec"
    forbidden = [s.encode() for s in secrets]
    async for execution in client.list_workflows():
        found.histories += 1
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        where = f"{execution.id}/{execution.run_id}"
        stored = b"".join(event.SerializeToString() for event in history.events)
        _check(execution.id.encode() + stored, forbidden, f"{where} (as stored)", found)
        for event in history.events:
            for path, payload in payloads_in(event):
                _check_payload(path, payload, where, event.event_id, forbidden, found)
                [decoded] = await codec.decode([payload])
                place = f"{where}#{event.event_id}{path} decoded"
                _check(decoded.SerializeToString(), forbidden, place, found)
    return found


def _check_payload(
    path: str, payload: Payload, where: str, event_id: int, forbidden: list[bytes], found: Findings
) -> None:
    place = f"{where}#{event_id}{path}"
    if payload.metadata.get("encoding") == ENCODING:
        found.encrypted += 1
    elif any(part in path for part in _PLAIN_FIELDS):
        found.plain += 1
    else:
        encoding = payload.metadata.get("encoding", b"").decode(errors="replace")
        found.leaks.append(f"{place}: payload not encrypted ({encoding}: {payload.data[:60]!r})")
    _check(payload.SerializeToString(), forbidden, place, found)


def _check(raw: bytes, forbidden: list[bytes], place: str, found: Findings) -> None:
    for pattern, what in ((EMAIL, "e-mail address"), (PHONE, "phone number")):
        if match := pattern.search(raw):
            found.leaks.append(f"{place}: {what} {match.group()!r}")
    for secret in forbidden:
        if secret in raw:
            found.leaks.append(f"{place}: a secret")
