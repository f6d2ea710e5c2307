"""Per-exchange policy: severity overrides, sender identities, which exchanges are known."""

from datetime import timedelta
from pathlib import Path

import pytest

from activities.policy import read_policy_file
from domain.alerts import Severity
from domain.policy import PolicyError, parse_policy

SHIPPED = (Path(__file__).parents[2] / "config" / "policy.toml").read_text(encoding="utf-8")

OVERRIDES = """
[exchange.upbit.severity.high]
kyc_deadline = "P5D"
kyc_deadline_max = "P12D"

[exchange.upbit.sender]
from_email = "compliance@upbit.example"
sms_number = "+821055550100"

[exchange.hanbit.sender]
name_ko = "한빛거래소"
name_en = "Hanbit Exchange"
"""


def _with(extra: str) -> str:
    return SHIPPED + "\n" + extra


def test_an_exchange_override_changes_only_the_fields_it_names() -> None:
    policy = parse_policy(_with(OVERRIDES), "p.toml")

    upbit = policy.for_exchange("upbit").for_severity(Severity.HIGH)
    bithumb = policy.for_exchange("bithumb").for_severity(Severity.HIGH)

    assert upbit.kyc_deadline == timedelta(days=5)
    assert upbit.kyc_deadline_max == timedelta(days=12)
    assert upbit.probation == bithumb.probation == timedelta(days=60)  # from the file's table
    assert bithumb.kyc_deadline == timedelta(days=3)
    assert policy.for_exchange("upbit").for_severity(Severity.MEDIUM) == policy.for_severity(
        Severity.MEDIUM
    )


def test_the_effective_policy_names_its_exchange_and_keeps_only_its_entry() -> None:
    policy = parse_policy(_with(OVERRIDES), "p.toml")

    effective = policy.for_exchange("upbit")

    assert (effective.version, effective.applies_to) == ("daxa-2026-1", "upbit")
    assert set(effective.exchange) == {"upbit"}
    assert effective.model_validate_json(effective.model_dump_json()) == effective


def test_daxa_members_are_known_by_name_and_another_exchange_by_its_entry() -> None:
    policy = parse_policy(_with(OVERRIDES), "p.toml")

    assert policy.known_exchanges() == ["upbit", "bithumb", "coinone", "korbit", "gopax", "hanbit"]
    assert policy.exchange_problem("gopax") is None
    assert policy.exchange_problem("hanbit") is None
    problem = policy.exchange_problem("newex")
    assert problem is not None and "[exchange.newex.sender]" in problem
    assert read_policy_file(None).exchange_problem("hanbit") is not None


def test_sender_identity_fills_the_daxa_names_and_keeps_the_file_addresses() -> None:
    policy = parse_policy(_with(OVERRIDES), "p.toml")

    upbit, korbit, hanbit = (policy.sender_for(x) for x in ("upbit", "korbit", "hanbit"))

    assert upbit is not None and korbit is not None and hanbit is not None
    assert (upbit.name_ko, upbit.name_en) == ("업비트", "Upbit")
    assert (upbit.from_email, upbit.sms_number) == ("compliance@upbit.example", "+821055550100")
    assert (korbit.name_ko, korbit.from_email) == ("코빗", None)
    assert (hanbit.name("ko"), hanbit.name("en")) == ("한빛거래소", "Hanbit Exchange")
    assert policy.sender_for("newex") is None


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        ('[exchange.upbit.severity.high]\nkyc_deadline = "P20D"', "exchange.upbit.severity.high"),
        ('[exchange.upbit.severity.high]\nkyc_deadline = "P1M"', "exchange.upbit.severity.high"),
        ('[exchange.upbit.severity.huge]\nkyc_deadline = "P1D"', "exchange.upbit.severity.huge"),
        ('[exchange.upbit.sender]\nsms_number = "010-1234"', "exchange.upbit.sender.sms_number"),
        ('[exchange.upbit.sender]\nfrom_email = "nobody"', "exchange.upbit.sender.from_email"),
        ('[exchange.upbit.sender]\nreply_to = "a@b.example"', "exchange.upbit.sender.reply_to"),
        ('[exchange.hanbit.sender]\nname_ko = "한빛"', "exchange.hanbit.sender needs name_ko"),
        ('[exchange.Bad_Id.sender]\nname_ko = "x"\nname_en = "x"', "exchange.Bad_Id"),
    ],
)
def test_a_bad_exchange_entry_names_the_field_as_the_worker_would(extra: str, names: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(_with(extra), "tuned.toml")

    assert str(error.value).startswith("policy tuned.toml: ")
    assert names in str(error.value)
