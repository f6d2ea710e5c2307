"""A generator of labelled access patterns: what owners do, and what lent keys look like.

    for pattern in labelled_patterns(start, prefix="t1"):
        pattern.keys       # keys to register (id, account, whitelist)
        pattern.requests   # gateway questions, with their time offsets from `start`
        pattern.expected   # (detector, key id) pairs that must be raised; none when benign

Every pattern has its own addresses, fingerprints, keys and accounts, so patterns never
meet in one store: a hit is always about the pattern that caused it.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class KeySpec:
    key_id: str
    account_id: str
    allowed_ips: list[str]


@dataclass(frozen=True)
class Request:
    key_id: str
    ip: str
    at: datetime
    tls_fingerprint: str | None = None
    user_agent: str | None = None
    permission: str = "trade"


@dataclass
class Pattern:
    name: str
    abusive: bool
    keys: list[KeySpec] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    expected: set[tuple[str, str]] = field(default_factory=set)  # (detector, key id)


def ja4(n: int) -> str:
    """A well-formed JA4 fingerprint, distinct for each n."""
    return f"t13d1516h2_{n:012x}_b186095e22b6"


def labelled_patterns(
    start: datetime, prefix: str = "p", day: timedelta = timedelta(days=1)
) -> list[Pattern]:
    """Five benign and five abusive patterns, beginning at `start`; `day` shortens "all day"."""
    p = prefix
    patterns: list[Pattern] = []

    def key(pattern: Pattern, n: int, account: str, ips: list[str]) -> str:
        spec = KeySpec(f"{p}-{pattern.name}-{n}", f"{p}-{pattern.name}-{account}", ips)
        pattern.keys.append(spec)
        return spec.key_id

    owner = Pattern("owner-two-ips", abusive=False)
    k = key(owner, 1, "a", ["203.0.113.10", "198.51.100.20"])
    steps = 48
    for i in range(steps):
        ip = "203.0.113.10" if i % 2 else "198.51.100.20"
        owner.requests.append(Request(k, ip, start + day * i / steps, ja4(1), "owner-bot/1.2"))
    patterns.append(owner)

    office = Pattern("office-nat", abusive=False)
    for n in (1, 2, 3):
        k = key(office, n, "a", ["192.0.2.44"])
        for i in range(steps):
            office.requests.append(Request(k, "192.0.2.44", start + day * i / steps, ja4(2)))
    patterns.append(office)

    mobile = Pattern("mobile-ipv6", abusive=False)
    k = key(mobile, 1, "a", ["2001:db8:aa:bb::/64"])
    for i in range(steps):
        address = f"2001:db8:aa:bb:{i:x}:{i * 7:x}:1:{i * 13 % 65536:x}"
        mobile.requests.append(Request(k, address, start + day * i / steps, ja4(3)))
    patterns.append(mobile)

    retry = Pattern("retry-burst", abusive=False)
    k = key(retry, 1, "a", ["198.51.100.77"])
    for i in range(40):
        retry.requests.append(Request(k, "198.51.100.77", start + timedelta(seconds=i / 4), ja4(4)))
    patterns.append(retry)

    upgrade = Pattern("client-upgrade", abusive=False)
    k = key(upgrade, 1, "a", ["198.51.100.90"])
    for i in range(steps):  # the owner's bot moves to a new TLS library halfway through the day
        fingerprint = ja4(20) if i < steps // 2 else ja4(21)
        upgrade.requests.append(Request(k, "198.51.100.90", start + day * i / steps, fingerprint))
    patterns.append(upgrade)

    five = Pattern("five-networks", abusive=True)
    k = key(five, 1, "a", ["100.64.1.1"])
    for i, ip in enumerate(["100.64.1.1", "100.65.2.2", "100.66.3.3", "100.67.4.4", "100.68.5.5"]):
        five.requests.append(Request(k, ip, start + timedelta(minutes=2 * i), ja4(5)))
    five.expected.add(("many_networks", k))
    patterns.append(five)

    probe = Pattern("probing", abusive=True)
    k = key(probe, 1, "a", ["100.70.0.1"])
    for i in range(8):  # one /24 of someone else's, tried for a working address
        probe.requests.append(
            Request(k, f"100.71.9.{10 + i}", start + timedelta(seconds=30 * i), ja4(6))
        )
    probe.expected.add(("whitelist_probing", k))
    patterns.append(probe)

    trader = Pattern("ip-four-accounts", abusive=True)
    for n in range(1, 5):
        k = key(trader, n, f"a{n}", ["100.80.0.8"])
        for i in range(3):
            at = start + timedelta(minutes=15 * n + i)
            trader.requests.append(Request(k, "100.80.0.8", at, ja4(10 + n)))
        trader.expected.add(("shared_origin", k))
    patterns.append(trader)

    tls = Pattern("tls-three-accounts", abusive=True)
    for n in range(1, 4):
        ip = f"100.9{n}.0.9"
        k = key(tls, n, f"a{n}", [ip])
        for i in range(3):
            at = start + timedelta(minutes=20 * n + i)
            tls.requests.append(Request(k, ip, at, ja4(7)))
        tls.expected.add(("shared_origin", k))
    patterns.append(tls)

    proxied = Pattern("proxied-clients", abusive=True)
    k = key(proxied, 1, "a", ["100.95.0.5"])
    for i in range(12):  # the owner's server lets two borrowers' bots through
        at = start + timedelta(minutes=2 * i)
        proxied.requests.append(Request(k, "100.95.0.5", at, ja4(30 + i % 3)))
    proxied.expected.add(("client_drift", k))
    patterns.append(proxied)
    return patterns
