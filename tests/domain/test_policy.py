"""Loading the ladder policy: the shipped default, another file, and each kind of bad file."""

from datetime import timedelta
from pathlib import Path

import pytest

from activities.policy import read_policy_file
from config.settings import Settings
from domain.alerts import Severity
from domain.policy import PolicyError, format_iso_duration, parse_iso_duration, parse_policy

GOOD_SEVERITY = """
monitoring_window = "P3D"
escalate_after_alerts = 2
kyc_deadline = "P3D"
kyc_deadline_max = "P10D"
kyc_reminders_before = ["P1D", "PT6H"]
probation = "P30D"
restrict_on_warning = false
"""


def _policy(
    medium: str = GOOD_SEVERITY,
    version: str = 'version = "test-1"',
    others: tuple[str, ...] = ("low", "high", "critical"),
) -> str:
    tables = "".join(f"[severity.{name}]\n{GOOD_SEVERITY}\n" for name in others)
    return f"{version}\n{tables}[severity.medium]\n{medium}\n"


def test_shipped_default_policy_matches_the_daxa_ladder() -> None:
    policy = read_policy_file(None)

    assert policy.version == "daxa-2026-1"
    assert policy.for_severity(Severity.LOW).monitoring_window == timedelta(days=7)
    assert policy.for_severity(Severity.MEDIUM).escalate_after_alerts == 2
    assert policy.for_severity(Severity.HIGH).escalate_after_alerts == 1
    critical = policy.for_severity(Severity.CRITICAL)
    assert critical.restrict_on_warning
    assert critical.kyc_deadline < policy.for_severity(Severity.HIGH).kyc_deadline


def test_policy_file_named_by_environment_is_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(_policy(version='version = "exchange-x-7"'), encoding="utf-8")
    monkeypatch.setenv("KEYCASE_POLICY_FILE", str(path))

    policy = read_policy_file(Settings().policy_file)

    assert policy.version == "exchange-x-7"
    assert policy.for_severity(Severity.MEDIUM).kyc_reminders_before == (
        timedelta(days=1),
        timedelta(hours=6),
    )


def test_policy_survives_a_round_trip_through_json() -> None:
    policy = read_policy_file(None)

    assert type(policy).model_validate_json(policy.model_dump_json()) == policy


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            _policy(GOOD_SEVERITY.replace('"P3D"', '"3 days"', 1)),
            "severity.medium.monitoring_window",
        ),
        (_policy(GOOD_SEVERITY.replace('"P3D"', '"P1M"', 1)), "severity.medium.monitoring_window"),
        (_policy(GOOD_SEVERITY.replace('"P3D"', "3", 1)), "severity.medium.monitoring_window"),
        (_policy(GOOD_SEVERITY.replace("= 2", "= 0")), "severity.medium.escalate_after_alerts"),
        (_policy(GOOD_SEVERITY.replace('probation = "P30D"\n', "")), "severity.medium.probation"),
        (_policy(GOOD_SEVERITY + "colour = 1\n"), "severity.medium.colour"),
        (_policy(GOOD_SEVERITY.replace('"P10D"', '"P1D"')), "kyc_deadline_max"),
        (_policy(GOOD_SEVERITY.replace('"P1D", ', '"P4D", ')), "kyc_reminders_before"),
        (_policy(GOOD_SEVERITY.replace('"PT6H"', '"P1D"')), "kyc_reminders_before"),
        (_policy(GOOD_SEVERITY.replace('"P30D"', '"PT0S"')), "probation"),
        (_policy(version=""), "version"),
        (_policy().replace("[severity.critical]", "[severity.urgent]"), "severity.urgent"),
        (_policy(others=("low", "high")), "severity table lacks critical"),
        (_policy().replace("= false", "= maybe", 1), "not valid TOML"),
    ],
    ids=[
        "words for duration",
        "months",
        "number for duration",
        "zero alerts",
        "missing field",
        "unknown field",
        "max before deadline",
        "reminder after deadline",
        "same reminder twice",
        "zero probation",
        "no version",
        "unknown severity",
        "severity missing",
        "broken toml",
    ],
)
def test_bad_policy_fails_with_a_message_naming_the_field(text: str, names: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(text, "bad.toml")

    assert "policy bad.toml" in str(error.value)
    assert names in str(error.value)


def test_unreadable_policy_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"

    with pytest.raises(PolicyError, match=r"nope\.toml: cannot be read"):
        read_policy_file(missing)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P3D", timedelta(days=3)),
        ("PT6H", timedelta(hours=6)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("P2W", timedelta(weeks=2)),
        ("PT1M30.5S", timedelta(seconds=90.5)),
    ],
)
def test_iso_durations_parse_and_format_back(text: str, expected: timedelta) -> None:
    assert parse_iso_duration(text) == expected
    assert parse_iso_duration(format_iso_duration(expected)) == expected


@pytest.mark.parametrize("text", ["P", "PT", "3D", "P1Y", "P1M", "-P1D", "P1DT"])
def test_ambiguous_or_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ISO-8601"):
        parse_iso_duration(text)
