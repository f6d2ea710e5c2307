"""The two notification ports (e-mail, SMS), the messages they carry and how they fail."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar


@dataclass(frozen=True)
class EmailMessage:
    """One plain-text e-mail; `outbox_id` travels with it so provider events find their row."""

    outbox_id: str
    to: str
    subject: str
    text: str
    from_email: str | None = None  # the exchange's sender; None: the adapter's own
    from_name: str | None = None


@dataclass(frozen=True)
class SmsMessage:
    """One SMS; `outbox_id` travels in the status callback URL."""

    outbox_id: str
    to: str
    text: str
    from_number: str | None = None  # the exchange's sender; None: the adapter's own


@dataclass(frozen=True)
class Accepted:
    """The provider took the message (which is not yet delivery)."""

    provider: str
    message_id: str | None


class PermanentSendError(Exception):
    """The provider refused the message for good (bad address, unsubscribed, rejected sender)."""


class TransientSendError(Exception):
    """The message was not sent this time; trying again later may work.

    `in_doubt` says the provider may have accepted it anyway (5xx, timeout, dropped
    connection), so a retry must look for it before sending again.
    """

    def __init__(
        self, detail: str, *, retry_after: timedelta | None = None, in_doubt: bool = False
    ) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.in_doubt = in_doubt


MessageT = TypeVar("MessageT", EmailMessage, SmsMessage, contravariant=True)


class NoticePort(Protocol[MessageT]):
    """A channel to a person: sends a message, and can look for one sent earlier."""

    @property
    def provider(self) -> str:
        """Name recorded in the outbox, e.g. "sendgrid", "twilio", "console"."""
        ...

    @property
    def lookup_is_conclusive(self) -> bool:
        """True if `find` returning None proves the provider never accepted the message."""
        ...

    async def send(self, message: MessageT) -> Accepted:
        """Hand the message to the provider; raises Permanent/TransientSendError."""
        ...

    async def find(self, message: MessageT, since: datetime) -> Accepted | None:
        """The provider's record of this message if an earlier attempt was accepted."""
        ...


EmailPort = NoticePort[EmailMessage]
SmsPort = NoticePort[SmsMessage]
