"""Alerts a continued run takes over undecided, packed small.

A run continues as new only in a turn that ran no local activity (see the workflow's
`_last_turn`), so under a stream of alerts with no gap it takes over the alerts that
arrived meanwhile instead of deciding on them. A busy turn brings hundreds of them, and
alerts about one key repeat most of their text: compressed, they stay far below the
server's payload limits.
"""

import base64
import json
import zlib

from domain.alerts import Alert

MAX_PACKED_CHARS = 200_000  # the carried input stays under the server's 256 KB warning


def pack_alerts(alerts: list[Alert]) -> str:
    """The alerts as base64 of compressed JSON ('' for none)."""
    if not alerts:
        return ""
    text = json.dumps([a.model_dump(mode="json") for a in alerts], separators=(",", ":"))
    return base64.b64encode(zlib.compress(text.encode(), 6)).decode()


def unpack_alerts(packed: str) -> list[Alert]:
    """The alerts `pack_alerts` packed."""
    if not packed:
        return []
    items = json.loads(zlib.decompress(base64.b64decode(packed)))
    return [Alert.model_validate(item) for item in items]
