"""The pure ring rules: which links an alert makes, and how links join rings."""

from datetime import UTC, datetime, timedelta

from domain.alerts import Alert, AlertKind, Severity
from domain.rings.joining import plan_rings
from domain.rings.links import links_of

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _hit(related: object) -> Alert:
    return Alert(
        alert_id="det.shared_origin.v1.20260302T0900Z.abc",
        key_id="k-a",
        account_id="acct-a",
        exchange="upbit",
        kind=AlertKind.COORDINATED_ACTIVITY,
        severity=Severity.MEDIUM,
        observed_at=T0,
        evidence={
            "detector": "shared_origin",
            "origin": {"kind": "ip", "value": "198.51.100.77"},
            "related_keys": related,
        },
    )


def test_a_shared_origin_hit_links_its_key_with_other_accounts_keys_on_its_exchange() -> None:
    owners = {
        "k-b": ("acct-b", "upbit"),
        "k-a2": ("acct-a", "upbit"),  # the same account: an office, not a ring
        "k-c": ("acct-c", "bithumb"),  # another exchange
    }
    alert = _hit({"values": ["k-b", "k-a2", "k-c", "k-unknown"], "total": 4})

    (link,) = links_of(alert, owners)

    assert (link.account_a, link.key_a, link.account_b, link.key_b) == (
        "acct-a",
        "k-a",
        "acct-b",
        "k-b",
    )
    assert link.kind == "shared_origin" and link.origin == "ip:198.51.100.77"
    assert link.source_id == alert.alert_id and link.observed_at == T0
    assert links_of(alert, owners) == [link]  # the same alert makes the same link id


def test_an_alert_naming_related_keys_makes_related_keys_links() -> None:
    alert = _hit(["k-b"]).model_copy(update={"evidence": {"related_keys": ["k-b"]}})

    (link,) = links_of(alert, {"k-b": ("acct-b", "upbit")})

    assert link.kind == "related_keys" and link.origin is None


def test_a_link_between_two_rings_merges_the_younger_into_the_older() -> None:
    owners = {"k-b": ("acct-b", "upbit")}
    (link,) = links_of(_hit(["k-b"]), owners)
    formed = {"ring-old": T0, "ring-new": T0 + timedelta(hours=1)}

    plan = plan_rings([link], {"acct-a": "ring-new", "acct-b": "ring-old"}, formed, T0)

    assert plan.merges == {"ring-new": "ring-old"} and plan.joins == {}


def test_a_link_of_two_accounts_in_no_ring_forms_one_named_after_it() -> None:
    (link,) = links_of(_hit(["k-b"]), {"k-b": ("acct-b", "upbit")})

    plan = plan_rings([link], {}, {}, T0)

    (ring_id,) = plan.formed
    assert plan.joins == {"acct-a": ring_id, "acct-b": ring_id}
    assert plan_rings([link], {}, {}, T0).formed == plan.formed  # stable on a retry
