"""Providers' texts with every contact in them replaced by a reference.

Twilio quotes the number it refused (error 21211) and SendGrid the address that bounced
("550 5.1.1 <owner@example.com>: Recipient address rejected"). Such texts reach a case's
history and the audit chain, which can never be cleaned, so contacts are masked on the
way there: anything shaped like an e-mail address, and any run of seven or more digits
(E.164, digits only, or the local `010-1234-5678` form), becomes `<contact of REF>`.
Error codes (21211) and SMTP statuses (550 5.1.1) are shorter and stay readable.
"""

import re

# Anything around an '@' up to a delimiter, so even a cut-off address ("owner@exa") goes.
_EMAIL = re.compile(r"[^\s<>()\[\],;:\"']*@[^\s<>()\[\],;:\"']*")
_PHONE = re.compile(r"(?<![\w+])\+?\d(?:[\s().-]{0,2}\d){6,}(?!\w)")


def mask_contacts(text: str, reference: str) -> str:
    """`text` with each e-mail address and phone number replaced by `<contact of reference>`."""
    placeholder = f"<contact of {reference}>"
    return _PHONE.sub(placeholder, _EMAIL.sub(placeholder, text))


def mask_optional(text: str | None, reference: str, limit: int = 500) -> str | None:
    """`mask_contacts` for a text that may be absent, cut to `limit` characters after masking."""
    return None if text is None else mask_contacts(text, reference)[:limit]
