"""The gateway decision over keys, address forms, CIDR edges and permissions."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.gateway import GatewayReason, KeyView, decide, standing
from domain.keys import KeyStatus, Permission

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def key(
    status: KeyStatus = KeyStatus.ACTIVE,
    ips: tuple[str, ...] = ("203.0.113.0/24", "198.51.100.7", "2001:db8:1::/48"),
    permissions: tuple[Permission, ...] = (Permission.READ, Permission.TRADE),
    expires_at: datetime | None = None,
) -> KeyView:
    return KeyView("k1", "acc1", status, permissions, ips, expires_at)


@pytest.mark.parametrize(
    "ip",
    [
        "203.0.113.0",  # first address of the block
        "203.0.113.255",  # last address of the block
        "198.51.100.7",
        "::ffff:198.51.100.7",
        "::ffff:203.0.113.128",
        "0:0:0:0:0:FFFF:CB00:7101",  # 203.0.113.1, mapped, in hex
        "2001:db8:1::1",
        "2001:db8:1:ffff:ffff:ffff:ffff:ffff",  # last address of the /48
        "2001:DB8:1:0:0:0:0:0",
    ],
)
def test_whitelisted_addresses_in_any_form_are_allowed(ip: str) -> None:
    decision = decide(key(), ip, Permission.TRADE, NOW)
    assert (decision.allowed, decision.reason) == (True, GatewayReason.ALLOWED)


@pytest.mark.parametrize(
    "ip",
    [
        "203.0.112.255",  # just below the block
        "203.0.114.0",  # just above the block
        "198.51.100.8",
        "::ffff:198.51.100.8",
        "2001:db8:2::1",  # the next /48
        "2001:db8::ffff:ffff:ffff:ffff:ffff",  # just below the /48
        "::198.51.100.7",  # IPv4-compatible (deprecated) is not the IPv4 address
        "64:ff9b::198.51.100.7",  # NAT64 is another network
        "2002:c633:6407::",  # 6to4 carrying 198.51.100.7
        "::ffff:0:198.51.100.7",  # IPv4-translated is not IPv4-mapped
    ],
)
def test_addresses_outside_the_whitelist_are_denied(ip: str) -> None:
    decision = decide(key(), ip, Permission.READ, NOW)
    assert (decision.allowed, decision.reason) == (False, GatewayReason.IP_NOT_WHITELISTED)


@pytest.mark.parametrize(
    "ip", ["", "garbage", "203.0.113.1 ", "203.000.113.1", "fe80::1%eth0", "203.0.113.0/24", "1"]
)
def test_garbage_addresses_are_denied_as_invalid(ip: str) -> None:
    decision = decide(key(), ip, Permission.READ, NOW)
    assert (decision.allowed, decision.reason) == (False, GatewayReason.INVALID_IP)


def test_matched_address_is_reported_normalised() -> None:
    assert decide(key(), "::ffff:198.51.100.7", Permission.READ, NOW).ip == "198.51.100.7"


def test_unknown_key_is_denied() -> None:
    assert decide(None, "203.0.113.1", Permission.READ, NOW).reason is GatewayReason.UNKNOWN_KEY


def test_expired_key_is_denied_from_whitelisted_address() -> None:
    decision = decide(key(KeyStatus.EXPIRED), "203.0.113.1", Permission.READ, NOW)
    assert (decision.allowed, decision.reason) == (False, GatewayReason.EXPIRED)


def test_key_past_its_scheduled_expiry_is_denied() -> None:
    ending = key(expires_at=NOW)
    assert decide(ending, "203.0.113.1", Permission.READ, NOW).reason is GatewayReason.EXPIRED
    earlier = NOW - timedelta(microseconds=1)
    assert decide(ending, "203.0.113.1", Permission.READ, earlier).allowed


def test_restricted_key_may_read_but_not_trade_or_withdraw() -> None:
    restricted = key(KeyStatus.RESTRICTED, permissions=tuple(Permission))
    assert decide(restricted, "203.0.113.1", Permission.READ, NOW).allowed
    for permission in (Permission.TRADE, Permission.WITHDRAW):
        decision = decide(restricted, "203.0.113.1", permission, NOW)
        assert decision.reason is GatewayReason.PERMISSION_RESTRICTED


def test_permission_never_granted_is_denied() -> None:
    decision = decide(key(), "203.0.113.1", Permission.WITHDRAW, NOW)
    assert (decision.allowed, decision.reason) == (False, GatewayReason.PERMISSION_RESTRICTED)


def test_monitored_key_keeps_working_from_whitelisted_addresses() -> None:
    assert decide(key(KeyStatus.MONITORED), "203.0.113.1", Permission.TRADE, NOW).allowed


def test_empty_whitelist_allows_no_address() -> None:
    decision = decide(key(ips=()), "203.0.113.1", Permission.READ, NOW)
    assert decision.reason is GatewayReason.IP_NOT_WHITELISTED


def test_standing_says_what_the_gateway_tells_the_owner() -> None:
    assert standing(key(), NOW) is GatewayReason.ALLOWED
    assert standing(key(KeyStatus.EXPIRED), NOW) is GatewayReason.EXPIRED
    assert standing(key(ips=()), NOW) is GatewayReason.IP_NOT_WHITELISTED
    assert standing(None, NOW) is GatewayReason.UNKNOWN_KEY
