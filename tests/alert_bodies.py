"""Surveillance alert bodies as `POST /v1/alerts` takes them, for tests and benchmarks."""

import itertools
from datetime import UTC, datetime
from typing import Any, Protocol

_numbers = itertools.count(1)


class AlertedKey(Protocol):
    @property
    def key_id(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def exchange(self) -> str: ...


def alert_body(key: AlertedKey, severity: str, alert_id: str | None = None) -> dict[str, Any]:
    """A key-sharing alert on `key` (a fresh alert id unless one is given)."""
    return {
        "alert_id": alert_id or f"sv-{key.key_id}-{next(_numbers)}",
        "key_id": key.key_id,
        "account_id": key.account_id,
        "exchange": key.exchange,
        "kind": "key_sharing",
        "severity": severity,
        "observed_at": datetime.now(UTC).isoformat(),
        "evidence": {"shared_ips": 4},
    }
