"""The gateway decision: may this key be used from this address for this permission?

A pure function of the key as the registry holds it, the request and the time, so
that the API, the activities (reading expiry back) and the benchmarks share it.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.keys import KeyStatus, Permission
from domain.network import InvalidAddress, address_allowed, parse_address_text
from domain.registry import usable_permissions


class GatewayReason(StrEnum):
    """Why a request was allowed or denied; checked in this order."""

    UNKNOWN_KEY = "unknown_key"
    EXPIRED = "expired"
    INVALID_IP = "invalid_ip"
    IP_NOT_WHITELISTED = "ip_not_whitelisted"
    PERMISSION_RESTRICTED = "permission_restricted"
    ALLOWED = "allowed"
    # Only a gateway client deciding from its replica: it lost keycase's change feed for
    # longer than its staleness bound, so it denies rather than trust an old copy.
    REPLICA_STALE = "replica_stale"


@dataclass(frozen=True, slots=True)
class KeyView:
    """What the gateway needs to know about a key."""

    key_id: str
    account_id: str
    status: KeyStatus
    permissions: tuple[Permission, ...]  # as granted at registration
    allowed_ips: tuple[str, ...]  # normalised (domain.network.normalise_whitelist)
    expires_at: datetime | None = None
    exchange: str = ""  # where the key is registered (alert intake checks it)


@dataclass(frozen=True, slots=True)
class GatewayDecision:
    allowed: bool
    reason: GatewayReason
    ip: str  # the address as matched (normalised), or the text given when it did not parse


def _expired(key: KeyView, now: datetime) -> bool:
    return key.status is KeyStatus.EXPIRED or (key.expires_at is not None and now >= key.expires_at)


def decide(key: KeyView | None, ip: str, permission: Permission, now: datetime) -> GatewayDecision:
    """Allow only a known, unexpired key, from a whitelisted address, for a usable permission.

    An empty whitelist allows no address: under the DAXA standard a key works only
    from addresses its owner registered in advance.
    """
    if key is None:
        return GatewayDecision(False, GatewayReason.UNKNOWN_KEY, ip)
    if _expired(key, now):
        return GatewayDecision(False, GatewayReason.EXPIRED, ip)
    try:
        address, normal = parse_address_text(ip)
    except InvalidAddress:
        return GatewayDecision(False, GatewayReason.INVALID_IP, ip)
    if not address_allowed(address, key.allowed_ips):
        return GatewayDecision(False, GatewayReason.IP_NOT_WHITELISTED, normal)
    if permission not in usable_permissions(key.permissions, key.status):
        return GatewayDecision(False, GatewayReason.PERMISSION_RESTRICTED, normal)
    return GatewayDecision(True, GatewayReason.ALLOWED, normal)


def standing(key: KeyView | None, now: datetime) -> GatewayReason:
    """What the gateway says to the key's owner now: a read from a whitelisted address."""
    if key is None:
        return GatewayReason.UNKNOWN_KEY
    if _expired(key, now):
        return GatewayReason.EXPIRED
    if not key.allowed_ips:
        return GatewayReason.IP_NOT_WHITELISTED
    if Permission.READ not in usable_permissions(key.permissions, key.status):
        return GatewayReason.PERMISSION_RESTRICTED
    return GatewayReason.ALLOWED
