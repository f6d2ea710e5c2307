"""Address and whitelist parsing: every odd form is either normalised or refused."""

import pytest
from pydantic import ValidationError

from domain.network import InvalidAddress, InvalidWhitelist, normalise_whitelist, parse_address
from domain.policy import WhitelistPolicy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("::FFFF:c000:0207", "192.0.2.7"),
        ("0:0:0:0:0:ffff:192.0.2.7", "192.0.2.7"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("::1", "::1"),
    ],
)
def test_addresses_are_normalised(text: str, expected: str) -> None:
    assert str(parse_address(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not-an-ip",
        "192.0.2",
        "127.1",  # inet_aton short form
        "0x7f.0.0.1",
        "0177.0.0.1",  # octal-looking octets
        "010.0.0.1",
        "3232235777",  # integer form
        "192.0.2.256",
        "192.0.2.7 ",
        " 192.0.2.7",
        "192.0.2.7\n",
        "fe80::1%eth0",  # zone id
        "fe80::1%25eth0",
        "192.0.2.7/32",  # a block is not a client address
        "١٩٢.0.2.7",  # non-ASCII digits
        "2001:db8:::1",
        "x" * 1000,
    ],
)
def test_odd_address_forms_are_refused(text: str) -> None:
    with pytest.raises(InvalidAddress):
        parse_address(text)


def test_whitelist_is_normalised_deduplicated_and_ordered() -> None:
    entries = [
        "203.0.113.7",
        "203.0.113.7/32",
        "::ffff:198.51.100.0/120",
        "2001:DB8::/32",
        "2001:db8:0:1::5/128",
        "10.0.0.0/16",
    ]
    assert normalise_whitelist(entries) == [
        "203.0.113.7",
        "198.51.100.0/24",
        "2001:db8::/32",
        "2001:db8:0:1::5",
        "10.0.0.0/16",
    ]


@pytest.mark.parametrize("entry", ["10.0.0.0/8", "172.16.0.0/12", "2001:db8::/31"])
def test_whitelist_refuses_blocks_wider_than_the_default_limit(entry: str) -> None:
    with pytest.raises(InvalidWhitelist, match="the policy allows"):
        normalise_whitelist([entry])


def test_a_policy_may_allow_wider_blocks_down_to_the_hard_floor() -> None:
    allowed = WhitelistPolicy(widest_ipv4_prefix=8, widest_ipv6_prefix=16).widest()
    assert normalise_whitelist(["10.0.0.0/8", "2001::/16"], allowed) == ["10.0.0.0/8", "2001::/16"]
    with pytest.raises(ValidationError):
        WhitelistPolicy(widest_ipv4_prefix=7)


def test_whitelist_errors_name_each_bad_entry() -> None:
    with pytest.raises(InvalidWhitelist) as caught:
        normalise_whitelist(["203.0.113.7", "10.0.0.1/24", "0.0.0.0/0", "nonsense", "ff02::1"])
    problems = caught.value.problems
    assert len(problems) == 4
    assert problems[0].startswith("entry 2:") and "did you mean 10.0.0.0/24" in problems[0]
    assert problems[1].startswith("entry 3:") and "too many addresses" in problems[1]
    assert problems[2].startswith("entry 4:")
    assert problems[3].startswith("entry 5:") and "not a usable" in problems[3]


@pytest.mark.parametrize("entry", ["::/0", "2001::/15", "0.0.0.0/7", "0.0.0.0", "::", "224.0.0.1"])
def test_whitelist_refuses_entries_that_cover_everyone_or_no_one(entry: str) -> None:
    with pytest.raises(InvalidWhitelist):
        normalise_whitelist([entry])


def test_whitelist_holds_at_most_ten_distinct_entries() -> None:
    ten = [f"192.0.2.{i}" for i in range(10)]
    assert len(normalise_whitelist([*ten, "192.0.2.0"])) == 10
    with pytest.raises(InvalidWhitelist, match="at most 10"):
        normalise_whitelist([*ten, "192.0.2.10"])


def test_empty_whitelist_is_valid() -> None:
    assert normalise_whitelist([]) == []
