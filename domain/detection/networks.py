"""What counts as one network: an IPv4 /24 or an IPv6 /48, the block one site usually holds.

A mobile owner's IPv6 addresses rotate inside their /64 (and the operator's /48), and a home
or office IPv4 address moves within its /24 far more often than across; counting networks
rather than addresses keeps such owners at one.
"""

import ipaddress
from functools import lru_cache

PREFIX = {4: 24, 6: 48}


# The gateway asks for every request, and a key's few addresses repeat: a cache hit is ~0.1 µs.
@lru_cache(maxsize=65_536)
def network_of(address: str) -> str | None:
    """The /24 or /48 holding an address as the gateway normalised it; None if it is no address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    return str(ipaddress.ip_network((parsed, PREFIX[parsed.version]), strict=False))
