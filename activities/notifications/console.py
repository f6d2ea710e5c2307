"""No-credentials mode: notices are printed and recorded, and marked as not sent to a provider."""

import sys
from datetime import datetime
from typing import TextIO

from activities.notifications.ports import Accepted, EmailMessage, SmsMessage

CONSOLE_PROVIDER = "console"


class ConsoleEmail:
    """Prints e-mails instead of sending them (the outbox records provider "console")."""

    provider = CONSOLE_PROVIDER
    lookup_is_conclusive = True  # printing twice is harmless, so never wait for evidence

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, message: EmailMessage) -> Accepted:
        """Print the e-mail; nothing leaves the machine."""
        _print(
            self._stream,
            f"e-mail to {message.to} (not sent: no SendGrid credentials)",
            f"From: {message.from_name or '-'} <{message.from_email or '-'}>\n"
            f"Subject: {message.subject}\n\n{message.text}",
        )
        return Accepted(self.provider, None)

    async def find(self, message: EmailMessage, since: datetime) -> Accepted | None:
        """Nothing was sent anywhere, so there is nothing to find."""
        return None


class ConsoleSms:
    """Prints SMS instead of sending them (the outbox records provider "console")."""

    provider = CONSOLE_PROVIDER
    lookup_is_conclusive = True

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, message: SmsMessage) -> Accepted:
        """Print the SMS; nothing leaves the machine."""
        _print(self._stream, f"SMS to {message.to} (not sent: no Twilio credentials)", message.text)
        return Accepted(self.provider, None)

    async def find(self, message: SmsMessage, since: datetime) -> Accepted | None:
        """Nothing was sent anywhere, so there is nothing to find."""
        return None


def _print(stream: TextIO | None, title: str, text: str) -> None:
    out = stream or sys.stdout
    out.write(f"----- keycase notice: {title} -----\n{text}\n-----\n")
    out.flush()
