"""API keys as the registry and the gateway see them."""

from enum import StrEnum


class Permission(StrEnum):
    READ = "read"
    TRADE = "trade"
    WITHDRAW = "withdraw"


class KeyStatus(StrEnum):
    ACTIVE = "ACTIVE"
    MONITORED = "MONITORED"
    RESTRICTED = "RESTRICTED"
    EXPIRED = "EXPIRED"


MAX_ALLOWED_IPS = 10
