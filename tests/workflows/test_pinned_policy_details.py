"""The UI's current details name the policy a case pinned and whose exchange it is."""

from datetime import UTC, datetime
from pathlib import Path

from domain import stage_rules
from domain.policy import parse_policy
from workflows.visibility import details

SHIPPED = (Path(__file__).parents[2] / "config" / "policy.toml").read_text(encoding="utf-8")
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_details_show_the_pinned_policy_version_and_exchange() -> None:
    policy = parse_policy(SHIPPED, "p.toml").for_exchange("bithumb")

    state = stage_rules.open_case("K.r", "K", "acct", "bithumb", policy, NOW)

    assert "**Policy** daxa-2026-1 for bithumb" in details(state)


def test_details_of_a_case_older_than_per_exchange_policy_show_the_version_alone() -> None:
    state = stage_rules.open_case("K.r", "K", "acct", "upbit", parse_policy(SHIPPED, "p"), NOW)

    assert "**Policy** daxa-2026-1 ·" in details(state)
