"""Key owners' contacts: what makes an e-mail address, a phone number and a locale usable."""

import re
from typing import Literal

import phonenumbers
from pydantic import TypeAdapter, ValidationError

from domain.alerts import AccountId

Locale = Literal["ko", "en"]
LOCALES: tuple[Locale, ...] = ("ko", "en")

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$")
_ACCOUNT_ID = TypeAdapter(AccountId)


class InvalidContact(ValueError):
    """An account field that cannot be used to reach its owner."""


def normalise_phone(phone: str) -> str:
    """The number itself when it is a valid E.164 number (`+` and digits only)."""
    if not _E164.match(phone):
        raise InvalidContact(f"phone {phone!r} is not in E.164 form, e.g. +821012345678")
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:  # e.g. a country code that does not exist
        raise InvalidContact(f"phone {phone!r} is not a valid number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact(f"phone {phone!r} is not a valid number")
    return phone


def normalise_email(email: str) -> str:
    """The address with its domain in lower case; refuses anything not shaped like one."""
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidContact(f"email {email!r} is not an e-mail address")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalise_contacts(account_id: str, email: str, phone: str, locale: str) -> tuple[str, str]:
    """(email, phone) as stored; raises InvalidContact for any field that cannot be used."""
    try:
        _ACCOUNT_ID.validate_python(account_id)
    except ValidationError:
        raise InvalidContact(f"account id {account_id!r} is not valid") from None
    if locale not in LOCALES:
        raise InvalidContact(f"locale {locale!r} is not one of {', '.join(LOCALES)}")
    return normalise_email(email), normalise_phone(phone)
