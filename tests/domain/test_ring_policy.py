"""The `[rings]` table: shipped defaults, and a bad table refused naming its field."""

import pytest

from config.policy_file import read_ring_policy
from domain.policy import PolicyError, parse_policy
from domain.rings.policy import RingPolicy, parse_ring_policy

LADDER = "".join(
    f"""
[severity.{name}]
monitoring_window = "P3D"
escalate_after_alerts = 1
kyc_deadline = "P3D"
kyc_deadline_max = "P10D"
kyc_reminders_before = ["P1D"]
probation = "P30D"
restrict_on_warning = false
"""
    for name in ("low", "medium", "high", "critical")
)


def test_the_shipped_policy_has_the_documented_ring_defaults() -> None:
    assert read_ring_policy(None) == RingPolicy(
        min_links=1, kinds=("shared_origin", "related_keys"), raise_at=3
    )


def test_a_file_without_a_rings_table_keeps_the_defaults() -> None:
    assert parse_ring_policy('version = "x"\n', "x.toml") == RingPolicy()


@pytest.mark.parametrize(
    ("table", "names"),
    [
        ("min_links = 0", "rings.min_links"),
        ('kinds = ["shared_ip"]', "rings.kinds.0"),
        ("kinds = []", "rings.kinds"),
        ("raise_at = 1", "rings.raise_at"),
        ("size = 3", "rings.size"),
    ],
)
def test_a_bad_rings_table_fails_naming_the_field(table: str, names: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_ring_policy(f"[rings]\n{table}\n", "tuned.toml")

    assert str(error.value).startswith(f"policy tuned.toml: {names}")


def test_the_ladder_reads_a_file_with_a_rings_table() -> None:
    text = 'version = "x"\n[rings]\nraise_at = 5\n' + LADDER

    assert parse_policy(text, "x.toml").version == "x"
    assert parse_ring_policy(text, "x.toml").raise_at == 5
