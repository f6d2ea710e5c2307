"""IP addresses and whitelists, parsed strictly so that no odd address form slips through.

Client addresses and whitelist entries are parsed with `ipaddress`, which already
refuses octal-looking octets, short forms (`127.1`), hex and integer forms. On top
of that: only ASCII text without whitespace is accepted, IPv6 zone ids
(`fe80::1%eth0`) are refused, and IPv4-mapped IPv6 addresses (`::ffff:192.0.2.7`)
are treated as the IPv4 address they carry, so that they match IPv4 entries.
"""

import contextlib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from domain.keys import MAX_ALLOWED_IPS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_TEXT_LENGTH = 49  # the longest IPv6 form with an embedded IPv4 address and a /128
# ASCII hex digits, dots, colons and one prefix slash: no whitespace, zone ids or other scripts.
_ADDRESS_TEXT = re.compile(rf"[0-9A-Fa-f.:/]{{1,{MAX_TEXT_LENGTH}}}", re.ASCII)
# A whitelist names its owner's addresses, not a large part of the Internet: no entry is
# ever wider than MIN_PREFIX, and new entries no wider than the policy's limit (by default
# WIDEST_PREFIX; `domain.policy.WhitelistPolicy`).
MIN_PREFIX = {4: 8, 6: 16}
WIDEST_PREFIX = {4: 16, 6: 32}


class InvalidAddress(ValueError):
    """Text that is not one acceptable IP address or CIDR block."""


class InvalidWhitelist(ValueError):
    """A whitelist with bad entries or too many; the message names each problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _clean(text: str) -> str:
    if not isinstance(text, str):
        raise InvalidAddress(f"{text!r} is not text")
    if _ADDRESS_TEXT.fullmatch(text):
        return text
    if "%" in text:
        raise InvalidAddress(f"{text[:60]!r} has an IPv6 zone id, which is not allowed")
    raise InvalidAddress(f"{text[:60]!r} is not an IP address")


def _unmap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_address(text: str) -> IPAddress:
    """One client address; IPv4-mapped IPv6 becomes IPv4. Raises InvalidAddress."""
    return parse_address_text(text)[0]


def parse_address_text(text: str) -> tuple[IPAddress, str]:
    """`parse_address`'s address and its normal text form. Raises InvalidAddress."""
    if not isinstance(text, str):
        raise InvalidAddress(f"{text!r} is not text")
    parsed = _parsed(text)
    if isinstance(parsed, str):
        raise InvalidAddress(parsed)
    return parsed


# A gateway sees the same client addresses over and over: parsing one costs several
# microseconds, a cached answer a fraction of one. Refusals are cached as their message.
@lru_cache(maxsize=16_384)
def _parsed(text: str) -> tuple[IPAddress, str] | str:
    try:
        address = _unmap(ipaddress.ip_address(_clean(text)))
    except InvalidAddress as error:
        return str(error)
    except ValueError:
        return f"{text[:60]!r} is not an IP address"
    return address, str(address)


def parse_network(text: str) -> IPNetwork:
    """One whitelist entry: an address or a CIDR block with no host bits set."""
    cleaned = _clean(text)
    try:
        network = ipaddress.ip_network(cleaned, strict=True)
    except ValueError as error:
        hint = ""
        if "/" in cleaned:
            with contextlib.suppress(ValueError):
                hint = f" (did you mean {ipaddress.ip_network(cleaned, strict=False)}?)"
        raise InvalidAddress(f"{text!r} is not an IP address or CIDR block{hint}") from error
    network = _unmap_network(network)
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise InvalidAddress(
            f"{text!r} covers too many addresses; use /{MIN_PREFIX[network.version]} "
            "or longer prefixes"
        )
    if network.network_address.is_unspecified or network.is_multicast:
        raise InvalidAddress(f"{text!r} is not a usable client address")
    return network


def _unmap_network(network: IPNetwork) -> IPNetwork:
    """`::ffff:192.0.2.0/120` is the IPv4 block 192.0.2.0/24."""
    mapped = ipaddress.IPv6Network("::ffff:0:0/96")
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(mapped):
        v4 = network.network_address.ipv4_mapped
        assert v4 is not None  # inside ::ffff:0:0/96, so it carries an IPv4 address
        return ipaddress.IPv4Network((v4, network.prefixlen - 96))
    return network


def _text(network: IPNetwork) -> str:
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def normalise_whitelist(
    entries: Iterable[str], widest: Mapping[int, int] = WIDEST_PREFIX
) -> list[str]:
    """Canonical, de-duplicated entries in the given order; raises InvalidWhitelist.

    `widest` is the shortest prefix allowed per IP version (4, 6).
    """
    problems: list[str] = []
    result: list[str] = []
    for position, entry in enumerate(entries, start=1):
        try:
            network = parse_network(entry)
        except InvalidAddress as error:
            problems.append(f"entry {position}: {error}")
            continue
        limit = widest[network.version]
        if network.prefixlen < limit:
            problems.append(
                f"entry {position}: {entry!r} covers too many addresses; the policy allows "
                f"/{limit} or longer prefixes"
            )
            continue
        text = _text(network)
        if text not in result:
            result.append(text)
    if len(result) > MAX_ALLOWED_IPS:
        problems.append(f"{len(result)} entries; at most {MAX_ALLOWED_IPS} are allowed per key")
    if problems:
        raise InvalidWhitelist(problems)
    return result


@lru_cache(maxsize=4096)
def _ranges(entries: tuple[str, ...]) -> tuple[tuple[int, int, int], ...]:
    """Each entry as (IP version, first address, last address), for integer comparisons."""
    networks = (parse_network(entry) for entry in entries)
    return tuple((n.version, int(n.network_address), int(n.broadcast_address)) for n in networks)


def address_allowed(address: IPAddress, whitelist: tuple[str, ...]) -> bool:
    """Whether `address` lies in one of the (already normalised) whitelist entries."""
    version, value = address.version, int(address)
    for entry_version, first, last in _ranges(whitelist):
        if entry_version == version and first <= value <= last:
            return True
    return False
