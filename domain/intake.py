"""Which alerts a key refuses: an alert names its key's owner and exchange, and a live key."""

from dataclasses import dataclass
from typing import NamedTuple

from domain.alerts import Alert
from domain.keys import KeyStatus


class KeyOwner(NamedTuple):
    """What intake checks an alert against: whose key it is, where, and whether it is live."""

    account_id: str
    exchange: str
    status: KeyStatus


@dataclass(frozen=True)
class Refusal:
    """Why an alert cannot open or join a case; `code` is the API's error code."""

    code: str
    message: str
    unknown: bool = False  # the key itself is not registered (else: it contradicts the alert)


def refusal(alert: Alert, key: KeyOwner | None) -> Refusal | None:
    """None when the alert may go to its key's case, else why not."""
    if key is None:
        return Refusal("unknown_key", f"key {alert.key_id} is not registered", unknown=True)
    if key.account_id != alert.account_id:
        return Refusal("key_account_mismatch", f"key {alert.key_id} belongs to another account")
    if key.exchange != alert.exchange:
        return Refusal(
            "key_exchange_mismatch", f"key {alert.key_id} is registered on {key.exchange}"
        )
    if key.status is KeyStatus.EXPIRED:
        return Refusal("key_expired", f"key {alert.key_id} is already expired")
    return None
