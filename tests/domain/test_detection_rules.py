"""The detectors' pure rules: networks, windows and episodes, alert ids, the policy tables."""

from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from activities.policy import read_detection_policy
from domain.alerts import Severity
from domain.detection.detectors import many_networks, shared_origin
from domain.detection.hits import MAX_LISTED, alert_for
from domain.detection.networks import network_of
from domain.detection.policy import (
    ManyNetworksPolicy,
    SharedOriginPolicy,
    parse_detection_policy,
)
from domain.detection.tallies import Tally
from domain.detection.windows import slice_of, window_start, windows_touching
from domain.policy import PolicyError, parse_policy

T = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
POLICY = ManyNetworksPolicy()  # 3 networks in 30 minutes: slices of 15 minutes


def tally(
    at: datetime,
    network: str,
    key: str = "k1",
    account: str | None = "a1",
    n: int = 1,
    window: timedelta = POLICY.window,
) -> Tally:
    return Tally(slice_of(at, window), key, account, network, 1, n, n, at, at)


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.9", "203.0.113.0/24"),
        ("2001:db8:aa:bb:1:2:3:4", "2001:db8:aa::/48"),
        ("2001:db8:aa:ffff::1", "2001:db8:aa::/48"),
        ("not-an-ip", None),
    ],
)
def test_a_network_is_a_slash_24_or_a_slash_48(address: str, network: str | None) -> None:
    assert network_of(address) == network


def test_windows_hop_by_half_their_length() -> None:
    window = timedelta(minutes=30)
    k = slice_of(T, window)

    assert window_start(k, window) == T
    assert list(windows_touching(T, T + timedelta(minutes=20), window)) == [k - 1, k, k + 1]


def test_a_burst_across_two_overlapping_windows_is_one_episode() -> None:
    tallies = [tally(T + timedelta(minutes=m), f"10.0.{m}.0/24", n=m) for m in (20, 24, 28)]

    hits = many_networks(
        POLICY, tallies, windows_touching(T, T + timedelta(hours=1), POLICY.window)
    )

    assert len(hits) == 1
    assert hits[0].window_start == T + timedelta(minutes=0)  # window [0, 30) has all three


def test_two_networks_never_hit_and_a_quiet_gap_starts_a_new_episode() -> None:
    two = [tally(T, "10.0.1.0/24"), tally(T + timedelta(minutes=5), "10.0.2.0/24")]
    later = [tally(T + timedelta(hours=3, minutes=m), f"10.1.{m}.0/24") for m in (1, 2, 3)]
    windows = windows_touching(T, T + timedelta(hours=4), POLICY.window)

    assert many_networks(POLICY, two, windows) == []
    assert len(many_networks(POLICY, two + later, windows)) == 1
    earlier = [tally(T + timedelta(minutes=m), f"10.2.{m}.0/24") for m in (1, 2, 3)]
    assert len(many_networks(POLICY, earlier + later, windows)) == 2


def test_alert_ids_depend_on_detector_version_subject_and_window_only() -> None:
    tallies = [tally(T + timedelta(minutes=m), f"10.0.{m}.0/24") for m in (1, 2, 3)]
    windows = windows_touching(T, T + timedelta(hours=1), POLICY.window)
    (hit,) = many_networks(POLICY, tallies, windows)
    (same,) = many_networks(POLICY, list(reversed(tallies)), windows)
    (newer,) = many_networks(ManyNetworksPolicy(version=2), tallies, windows)

    assert hit.alert_id == same.alert_id != newer.alert_id
    alert = alert_for(hit, "a1", "upbit")
    assert (alert.alert_id, alert.kind.value, alert.severity) == (
        hit.alert_id,
        "key_sharing",
        Severity.MEDIUM,
    )


def test_shared_origin_skips_a_popular_client_in_a_window_still_filling() -> None:
    """Early in a window a common client library has met few of its accounts yet."""
    policy = SharedOriginPolicy()  # 3 to 50 accounts a day: slices of 12 hours
    day = policy.window
    previous, now = T - day / 2, T + timedelta(hours=1)  # the half-window before; the open one
    library = "tls:t13d1516h2_8daaf6152771_02713d6af862"
    yesterday = [tally(previous, library, f"c{n}", f"c{n}", window=day) for n in range(60)]
    this_morning = [tally(now, library, f"c{n}", f"c{n}", window=day) for n in range(55, 65)]
    ring = [tally(now, "ip:100.80.0.8", f"k{n}", f"a{n}", window=day) for n in range(4)]
    windows = windows_touching(now, now, policy.window)

    hits = shared_origin(policy, yesterday + this_morning + ring, windows)

    assert {h.key_id for h in hits} == {f"k{n}" for n in range(4)}
    assert {h.evidence["origin"]["value"] for h in hits} == {"100.80.0.8"}


def test_shared_origin_names_other_keys_bounded_and_skips_carrier_nats() -> None:
    policy = SharedOriginPolicy(max_accounts=30)
    day = policy.window
    ring = [tally(T, "ip:100.80.0.8", f"k{n}", f"a{n}", window=day) for n in range(25)]
    crowd = [tally(T, "ip:100.99.0.1", f"c{n}", f"c{n}", window=day) for n in range(31)]
    windows = windows_touching(T, T, policy.window)

    hits = shared_origin(policy, ring + crowd, windows)

    assert {h.key_id for h in hits} == {f"k{n}" for n in range(25)}
    related = hits[0].evidence["related_keys"]
    assert related["total"] == 24 and len(related["values"]) == MAX_LISTED
    assert alert_for(hits[0], "a0", "upbit").evidence == hits[0].evidence  # within 8 KB


def test_shipped_policy_has_the_documented_detector_defaults() -> None:
    policy = read_detection_policy(None)

    assert policy.detection.every == timedelta(minutes=1)
    assert policy.detection.retention == timedelta(days=90)
    assert (policy.detectors.many_networks.min_networks, policy.detectors.many_networks.window) == (
        3,
        timedelta(minutes=30),
    )
    assert policy.detectors.whitelist_probing.min_denials == 5
    assert policy.detectors.shared_origin.min_accounts == 3


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ("[detectors.many_networks]\nmin_networks = 1", "detectors.many_networks.min_networks"),
        ('[detectors.many_networks]\nwindow = "PT3M"', "detectors.many_networks"),
        ('[detectors.shared_origin]\nseverity = "dire"', "detectors.shared_origin.severity"),
        ("[detectors.whitelist_probing]\nthreshold = 5", "detectors.whitelist_probing.threshold"),
        ("[detectors.lent_keys]\nversion = 1", "detectors.lent_keys"),
        ('[detection]\nevery = "PT0S"', "detection"),
        (
            '[detection]\nretention = "P1D"\n[detectors.shared_origin]\nwindow = "P2D"',
            r"\(top level\): Value error, detection.retention",
        ),
    ],
)
def test_a_bad_detector_table_fails_naming_the_field(table: str, field: str) -> None:
    with pytest.raises(PolicyError, match=f"policy test.toml: {field}"):
        parse_detection_policy(table, "test.toml")


def test_the_ladder_ignores_the_detection_tables_of_the_same_file() -> None:
    shipped = resources.files("config").joinpath("policy.toml").read_text(encoding="utf-8")
    text = shipped.replace("min_networks = 3", "min_networks = 4")

    assert parse_policy(text, "x").version == "daxa-2026-1"
    assert parse_detection_policy(text, "x").detectors.many_networks.min_networks == 4
