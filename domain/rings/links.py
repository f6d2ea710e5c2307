"""Links between accounts, and why: a shared origin (a detector hit) or an alert's related keys.

    links = links_of(alert, owners)   # owners: key id -> (account id, exchange)

A link joins two keys of two accounts on one exchange and keeps its reason: the alert (the
detector hit's alert id, or the surveillance alert naming the related keys), the shared IP
or TLS fingerprint if there was one, and when it was observed.
"""

import hashlib
from collections.abc import Mapping
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.alerts import Alert, related_keys
from domain.rings.policy import LinkKind


class Link(BaseModel):
    """Two accounts' keys seen together; `account_a` < `account_b`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    link_id: str
    kind: LinkKind
    source_id: str  # the alert (a detector hit's alert id is the hit's id)
    key_a: str
    account_a: str
    key_b: str
    account_b: str
    origin: str | None = None  # "ip:203.0.113.7" or "tls:<JA4>" for a shared origin
    exchange: str
    observed_at: AwareDatetime

    @property
    def accounts(self) -> tuple[str, str]:
        return self.account_a, self.account_b


def link_id_for(source_id: str, key_a: str, key_b: str) -> str:
    """The same alert naming the same pair of keys is one link, however often it arrives."""
    first, second = sorted((key_a, key_b))
    digest = hashlib.sha256(f"{source_id}|{first}|{second}".encode()).hexdigest()[:32]
    return f"lnk-{digest}"


def _origin(evidence: Mapping[str, Any]) -> str | None:
    origin = evidence.get("origin")
    if not isinstance(origin, dict):
        return None
    kind, value = origin.get("kind"), origin.get("value")
    if not isinstance(kind, str) or not isinstance(value, str):
        return None
    return f"{kind}:{value}"[:200]


def links_of(alert: Alert, owners: Mapping[str, tuple[str, str]]) -> list[Link]:
    """The links an alert makes: its key with each related key of another account, same exchange.

    Related keys that are not registered, or belong to the alert's own account, link nothing."""
    origin = _origin(alert.evidence)
    kind: LinkKind = (
        "shared_origin" if alert.evidence.get("detector") == "shared_origin" else ("related_keys")
    )
    found: list[Link] = []
    for other in related_keys(alert.evidence):
        owner = owners.get(other)
        if owner is None or other == alert.key_id:
            continue
        account, exchange = owner
        if account == alert.account_id or exchange != alert.exchange:
            continue
        mine = (alert.account_id, alert.key_id)
        (account_a, key_a), (account_b, key_b) = sorted([mine, (account, other)])
        found.append(
            Link(
                link_id=link_id_for(alert.alert_id, key_a, key_b),
                kind=kind,
                source_id=alert.alert_id,
                key_a=key_a,
                account_a=account_a,
                key_b=key_b,
                account_b=account_b,
                origin=origin,
                exchange=alert.exchange,
                observed_at=alert.observed_at,
            )
        )
    return found


def ring_id_for(link: Link) -> str:
    """A new ring is named after the link that formed it: stable, and the same on a retry."""
    return f"ring-{link.link_id.removeprefix('lnk-')[:20]}"
