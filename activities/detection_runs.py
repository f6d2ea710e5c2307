"""One detector over a range of windows: the store's tallies in, the pure detector's hits out.

Shared by the sweep's `run_detector` activity and `keycase detect backtest`. Windows are
read in chunks, so memory and each query stay bounded however long the span is.
"""

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection

from domain.detection import detectors
from domain.detection.hits import Hit
from domain.detection.policy import (
    ClientDriftPolicy,
    DetectionPolicy,
    DetectorName,
    ManyNetworksPolicy,
    SharedOriginPolicy,
    WhitelistProbingPolicy,
)
from domain.detection.windows import windows_touching
from domain.gateway import GatewayReason
from store.detection import key_origin_tallies, key_tallies, origin_tallies

CHUNK_WINDOWS = 96  # windows per query: two days of 30-minute windows


def windows_of(
    policy: DetectionPolicy, name: DetectorName, first: datetime, last: datetime
) -> range:
    """The detector's windows that hold any moment of [first, last]."""
    return windows_touching(first, last, policy.detector(name).window)


def chunks(windows: range, size: int = CHUNK_WINDOWS) -> Iterator[range]:
    """`windows` in consecutive pieces of at most `size`."""
    for start in range(windows.start, windows.stop, size):
        yield range(start, min(start + size, windows.stop))


def detect(
    connection: Connection, policy: DetectionPolicy, name: DetectorName, windows: range
) -> list[Hit]:
    """The detector's hits in `windows` (one chunk), from the tallies in the store."""
    settings = policy.detector(name)
    if not settings.enabled or not windows:
        return []
    # Window k spans slices k and k+1; the slice before tells whether its episode began earlier.
    slices = range(windows.start - 1, windows.stop + 1)
    if isinstance(settings, ManyNetworksPolicy):
        tallies = key_tallies(
            connection, settings.window, slices, min_networks=settings.min_networks
        )
        return detectors.many_networks(settings, tallies, windows)
    if isinstance(settings, WhitelistProbingPolicy):
        tallies = key_tallies(
            connection,
            settings.window,
            slices,
            denials_of=GatewayReason.IP_NOT_WHITELISTED.value,
            min_denials=settings.min_denials,
        )
        return detectors.whitelist_probing(settings, tallies, windows)
    if isinstance(settings, ClientDriftPolicy):
        tallies = key_origin_tallies(
            connection, settings.window, slices, kind="tls", min_origins=settings.min_fingerprints
        )
        return detectors.client_drift(settings, tallies, windows)
    assert isinstance(settings, SharedOriginPolicy)
    tallies = origin_tallies(
        connection,
        settings.window,
        slices,
        kinds=settings.origins,
        min_accounts=settings.min_accounts,
    )
    return detectors.shared_origin(settings, tallies, windows)
