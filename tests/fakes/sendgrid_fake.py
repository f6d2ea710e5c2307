"""A fake SendGrid v3 API (Mail Send, Email Activity feed) as the `sendgrid` SDK calls it."""

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from tests.fakes.http_fake import HttpFake, Recorded, Reply

_OUTBOX_QUERY = re.compile(r"unique_args\['outbox_id'\]=\"([^\"]+)\"")


@dataclass(frozen=True)
class SentMail:
    """A mail the fake accepted."""

    message_id: str
    to: str
    from_email: str
    from_name: str | None
    subject: str
    text: str
    custom_args: dict[str, str]


class FakeSendGrid(HttpFake):
    """Accepts mail with 202 and `X-Message-Id`; scripts apply to Mail Send only."""

    def __init__(self, api_key: str = "SG.test-key", activity_feed: bool = False) -> None:
        self.api_key = api_key
        self.activity_feed = activity_feed  # the paid add-on: without it the feed answers 403
        self.accepted: list[SentMail] = []
        super().__init__()

    def scripted(self, request: Recorded) -> bool:
        return request.path == "/v3/mail/send"

    def answer(self, request: Recorded, reply: Reply | None) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply(401, {"errors": [{"message": "authorization required"}]})
        if request.path == "/v3/messages" and request.method == "GET":
            return self._feed(request)
        if request.path != "/v3/mail/send" or request.method != "POST":
            return Reply(404, {"errors": [{"message": "not found"}]})
        if reply is not None and not reply.accept:
            return reply
        message_id = uuid.uuid4().hex[:22]
        self.accepted.append(_mail(request.json(), message_id))
        accepted = Reply(202, None, {"X-Message-Id": message_id})
        if reply is not None:  # accepted, but the caller will see the scripted outcome
            accepted.drop, accepted.delay = reply.drop, reply.delay
        return accepted

    def _feed(self, request: Recorded) -> Reply:
        if not self.activity_feed:
            return Reply(403, {"errors": [{"message": "access forbidden"}]})
        match = _OUTBOX_QUERY.search(request.query.get("query", [""])[0])
        wanted = match.group(1) if match else None
        found = [m for m in self.accepted if m.custom_args.get("outbox_id") == wanted]
        return Reply(200, {"messages": [_feed_item(m) for m in found]})


def rate_limited(reset_in: float) -> Reply:
    """429 with SendGrid's reset time (epoch seconds) in `X-RateLimit-Reset`."""
    reset = str(int(time.time() + reset_in))
    body = {"errors": [{"message": "too many requests"}]}
    return Reply(429, body, {"X-RateLimit-Reset": reset, "X-RateLimit-Remaining": "0"})


def server_error(status: int = 500) -> Reply:
    """A 5xx without accepting the mail."""
    return Reply(status, {"errors": [{"message": "internal error"}]})


def rejected(status: int = 400, message: str = "Does not contain a valid address.") -> Reply:
    """A permanent refusal (400 bad address, 403 sender not verified, ...)."""
    return Reply(status, {"errors": [{"message": message, "field": "personalizations.0.to"}]})


def accepted_then_dropped() -> Reply:
    """SendGrid takes the mail, but the connection drops before the 202 arrives."""
    return Reply(accept=True, drop=True)


def accepted_then_slow(seconds: float) -> Reply:
    """SendGrid takes the mail, then answers only after `seconds`."""
    return Reply(accept=True, delay=seconds)


def bounce_event(mail: SentMail, event_id: str | None = None) -> dict[str, Any]:
    """The event-webhook event SendGrid posts when `mail`'s address bounces, worded as it is."""
    return {
        "email": mail.to,
        "event": "bounce",
        "type": "bounce",
        "status": "5.1.1",
        "reason": f"550 5.1.1 <{mail.to}>: Recipient address rejected: User unknown",
        "sg_event_id": event_id or uuid.uuid4().hex,
        "sg_message_id": f"{mail.message_id}.filterdrecv-1-2-3",
        "timestamp": int(time.time()),
        **mail.custom_args,
    }


def _mail(body: dict[str, Any], message_id: str) -> SentMail:
    personalization = body["personalizations"][0]
    text = next(c["value"] for c in body["content"] if c["type"] == "text/plain")
    return SentMail(
        message_id=message_id,
        to=personalization["to"][0]["email"],
        from_email=body["from"]["email"],
        from_name=body["from"].get("name"),
        subject=body.get("subject") or personalization.get("subject", ""),
        text=text,
        custom_args={**body.get("custom_args", {}), **personalization.get("custom_args", {})},
    )


def _feed_item(mail: SentMail) -> dict[str, Any]:
    return {
        "msg_id": f"{mail.message_id}.filterdrecv-1-2-3",
        "to_email": mail.to,
        "subject": mail.subject,
        "status": "processing",
    }
