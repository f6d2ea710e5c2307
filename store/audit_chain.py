"""The audit chain's hashing: canonical JSON of a row's fields plus the previous row's hash.

Pure functions, so `verify` and anyone holding an export can recompute every hash.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python

from domain.privacy import private_key_path

GENESIS = "0" * 64  # the "previous hash" of the first row


class ForbiddenPayload(ValueError):
    """A payload that would put contacts or secrets into the audit log."""


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text; refuses NaN and infinities."""
    return json.dumps(
        to_jsonable_python(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def check_payload(payload: Mapping[str, Any]) -> None:
    """Raise ForbiddenPayload when any key, at any depth, names a contact or a secret.

    Contacts and secrets never enter the audit log (`domain.privacy`); such a key is a bug
    upstream, or evidence that slipped past intake.
    """
    path = private_key_path(payload, "payload")
    if path is not None:
        raise ForbiddenPayload(f"audit payload must not carry a contact or a secret: {path}")


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def row_hash(
    *,
    seq: int,
    event_id: str,
    event_type: str,
    case_id: str | None,
    key_id: str,
    actor: str,
    occurred_at: datetime,
    recorded_at: datetime,
    payload: str,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) over the canonical JSON of the row's fields, `prev_hash` included."""
    body = canonical_json(
        {
            "seq": seq,
            "event_id": event_id,
            "event_type": event_type,
            "case_id": case_id,
            "key_id": key_id,
            "actor": actor,
            "occurred_at": _instant(occurred_at),
            "recorded_at": _instant(recorded_at),
            "payload": payload,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()
