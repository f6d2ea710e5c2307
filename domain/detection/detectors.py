"""The detectors: pure functions from one detector's tallies over some windows to its hits.

    hits = many_networks(policy.detectors.many_networks, tallies, windows)

`tallies` must cover the slice before the first window too (see domain.detection.windows).
"""

from collections.abc import Callable, Iterable

from domain.alerts import AlertKind
from domain.detection.hits import Hit, base_evidence, listed, row_span
from domain.detection.policy import (
    ClientDriftPolicy,
    ManyNetworksPolicy,
    SharedOriginPolicy,
    WhitelistProbingPolicy,
)
from domain.detection.tallies import Tally, by_slice, hitting
from domain.detection.windows import window_start


def many_networks(
    policy: ManyNetworksPolicy, tallies: Iterable[Tally], windows: range
) -> list[Hit]:
    """A key used (allowed or denied) from at least `min_networks` networks in one window."""

    def hit(inside: list[Tally]) -> bool:
        return len({t.facet for t in inside}) >= policy.min_networks

    thresholds = {"min_networks": policy.min_networks, "window": policy.window}
    return _per_key("many_networks", policy, thresholds, tallies, windows, hit)


def whitelist_probing(
    policy: WhitelistProbingPolicy, tallies: Iterable[Tally], windows: range
) -> list[Hit]:
    """At least `min_denials` `ip_not_whitelisted` denials of one key in one window.

    The tallies count only those denials (the store selects them)."""

    def hit(inside: list[Tally]) -> bool:
        return sum(t.hits for t in inside) >= policy.min_denials

    thresholds = {"min_denials": policy.min_denials, "window": policy.window}
    return _per_key("whitelist_probing", policy, thresholds, tallies, windows, hit)


def client_drift(policy: ClientDriftPolicy, tallies: Iterable[Tally], windows: range) -> list[Hit]:
    """A key used with at least `min_fingerprints` JA4 fingerprints in one window.

    The tallies are the key's `tls:` origins (the store selects them)."""

    def hit(inside: list[Tally]) -> bool:
        return len({t.facet for t in inside}) >= policy.min_fingerprints

    thresholds = {"min_fingerprints": policy.min_fingerprints, "window": policy.window}
    return _per_key("client_drift", policy, thresholds, tallies, windows, hit)


_KINDS = {
    "many_networks": (AlertKind.KEY_SHARING, "networks"),
    "whitelist_probing": (AlertKind.IP_ANOMALY, "networks"),
    "client_drift": (AlertKind.KEY_SHARING, "fingerprints"),
}


def _per_key(
    name: str,
    policy: ManyNetworksPolicy | WhitelistProbingPolicy | ClientDriftPolicy,
    thresholds: dict[str, object],
    tallies: Iterable[Tally],
    windows: range,
    hit: Callable[[list[Tally]], bool],
) -> list[Hit]:
    kind, facets = _KINDS[name]
    found: list[Hit] = []
    for key_id, slices in by_slice(tallies, lambda t: t.key_id).items():
        for k, inside, before in hitting(slices, windows, hit):
            if before:
                continue  # the episode was reported for the window before
            start = window_start(k, policy.window)
            evidence = base_evidence(name, policy.version, thresholds, start, start + policy.window)
            seen = {t.facet.removeprefix("tls:") for t in inside}
            evidence["counts"] = {
                facets: len(seen),
                "requests": sum(t.hits for t in inside),
                "denied": sum(t.denied for t in inside),
            }
            evidence[facets] = listed(seen)
            evidence.update(row_span(inside))
            found.append(
                Hit(
                    detector=name,
                    version=policy.version,
                    key_id=key_id,
                    subject=key_id,
                    window_start=start,
                    window_end=start + policy.window,
                    kind=kind,
                    severity=policy.severity,
                    evidence=evidence,
                    observed_at=max(t.last_at for t in inside),
                )
            )
    return found


def shared_origin(
    policy: SharedOriginPolicy, tallies: Iterable[Tally], windows: range
) -> list[Hit]:
    """One IP or TLS fingerprint used with keys of `min_accounts`..`max_accounts` accounts.

    One hit per key involved, naming the other keys; tallies of unknown keys never count.
    An origin with more accounts than `max_accounts` in the window or the half-window before
    it is a popular one (a carrier NAT, a common client library): the sweep judges a window
    while it is still filling, when a popular origin has met only some of its accounts."""
    known = [t for t in tallies if t.account_id is not None]

    def hit(inside: list[Tally]) -> bool:
        return policy.min_accounts <= len({t.account_id for t in inside}) <= policy.max_accounts

    thresholds = {
        "min_accounts": policy.min_accounts,
        "max_accounts": policy.max_accounts,
        "window": policy.window,
    }
    found: list[Hit] = []
    for origin, slices in by_slice(known, lambda t: t.facet).items():
        for k, inside, before in hitting(slices, windows, hit):
            if _accounts(slices.get(k - 1, []) + inside) > policy.max_accounts:
                continue  # popular in the half-window before: not a ring
            start = window_start(k, policy.window)
            keys = {t.key_id for t in inside}
            # A key's episode begins when it joins the origin's: a key new to it is reported.
            for key_id in sorted(keys - {t.key_id for t in before}):
                mine = [t for t in inside if t.key_id == key_id]
                evidence = base_evidence(
                    "shared_origin", policy.version, thresholds, start, start + policy.window
                )
                kind, _, value = origin.partition(":")
                evidence["origin"] = {"kind": kind, "value": value}
                evidence["counts"] = {
                    "accounts": len({t.account_id for t in inside}),
                    "keys": len(keys),
                    "requests": sum(t.hits for t in mine),
                }
                evidence["related_keys"] = listed(keys - {key_id})
                evidence.update(row_span(mine))
                found.append(
                    Hit(
                        detector="shared_origin",
                        version=policy.version,
                        key_id=key_id,
                        subject=f"{origin}|{key_id}",
                        window_start=start,
                        window_end=start + policy.window,
                        kind=AlertKind.COORDINATED_ACTIVITY,
                        severity=policy.severity,
                        evidence=evidence,
                        observed_at=max(t.last_at for t in mine),
                    )
                )
    return found


def _accounts(tallies: list[Tally]) -> int:
    return len({t.account_id for t in tallies})
