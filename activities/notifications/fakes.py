"""In-memory notification ports for other layers' tests: record messages, fail on request."""

from collections import deque
from datetime import datetime
from typing import Generic

from activities.notifications.ports import Accepted, EmailMessage, MessageT, SmsMessage


class InMemoryPort(Generic[MessageT]):
    """Keeps every accepted message; `fail_next` queues errors raised by the next sends."""

    lookup_is_conclusive = True

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.sent: list[MessageT] = []
        self._failures: deque[Exception] = deque()

    def fail_next(self, *errors: Exception) -> None:
        """Make the next sends raise these errors, one per send, in order."""
        self._failures.extend(errors)

    async def send(self, message: MessageT) -> Accepted:
        """Record the message, or raise the next queued failure."""
        if self._failures:
            raise self._failures.popleft()
        self.sent.append(message)
        return Accepted(self.provider, f"{self.provider}-{len(self.sent)}")

    async def find(self, message: MessageT, since: datetime) -> Accepted | None:
        """An accepted message with the same outbox id, if any."""
        for number, sent in enumerate(self.sent, start=1):
            if sent.outbox_id == message.outbox_id:
                return Accepted(self.provider, f"{self.provider}-{number}")
        return None


class InMemoryEmail(InMemoryPort[EmailMessage]):
    """A fake e-mail port."""

    def __init__(self) -> None:
        super().__init__("fake-email")


class InMemorySms(InMemoryPort[SmsMessage]):
    """A fake SMS port."""

    def __init__(self) -> None:
        super().__init__("fake-sms")
