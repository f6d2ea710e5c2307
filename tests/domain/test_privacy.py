"""One rule for keys that name a contact or a secret, at any depth and in any case."""

import pytest

from domain.privacy import names_private, private_key_path


@pytest.mark.parametrize(
    "key", ["email", "E-Mail", "user_email", "Phone_Number", "apiSecret", "PASSWORD", "passwd"]
)
def test_keys_named_like_a_contact_or_secret_are_private(key: str) -> None:
    assert names_private(key)


@pytest.mark.parametrize("key", ["ips", "window", "shared_ips", "account_id", "mail_count"])
def test_other_keys_are_not(key: str) -> None:
    assert not names_private(key)


def test_the_path_names_the_first_private_key_at_any_depth() -> None:
    value = {"ips": ["198.51.100.4"], "hits": [{"n": 1}, {"who": {"Phone": "+82..."}}]}

    assert private_key_path(value, "evidence") == "evidence.hits[1].who.Phone"
    assert private_key_path({"ips": ["198.51.100.4"], "window": "PT10M"}, "evidence") is None
