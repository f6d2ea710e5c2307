"""A fake Twilio Messages API (2010-04-01), as the `twilio` SDK calls it."""

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from tests.fakes.http_fake import HttpFake, Recorded, Reply

# Worded as Twilio words them: refusals of a number quote it.
_ERROR_TEXT = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient {to}",
    21614: "To number: {to}, is not a mobile number",
    20429: "Too Many Requests",
    21611: "This 'From' number has exceeded the maximum number of queued messages",
}


@dataclass(frozen=True)
class SentSms:
    """An SMS the fake accepted."""

    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    date_created: datetime


class FakeTwilio(HttpFake):
    """Accepts messages with 201 `queued`; lists them newest first; scripts apply to creates."""

    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "tw-token") -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.accepted: list[SentSms] = []
        super().__init__()

    @property
    def messages_path(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def scripted(self, request: Recorded) -> bool:
        return request.method == "POST" and request.path == self.messages_path

    def answer(self, request: Recorded, reply: Reply | None) -> Reply:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return error(20003, status=401)
        if request.path != self.messages_path:
            return error(20404, status=404)
        if request.method == "GET":
            return self._list(request)
        form = request.form()
        if reply is not None and not reply.accept:
            return _quoting(reply, form.get("To", ""))
        sms = SentSms(
            sid="SM" + uuid.uuid4().hex,
            to=form["To"],
            from_=form["From"],
            body=form["Body"],
            status_callback=form.get("StatusCallback"),
            date_created=datetime.now(UTC),
        )
        self.accepted.append(sms)
        created = Reply(201, self._resource(sms))
        if reply is not None:
            created.drop, created.delay = reply.drop, reply.delay
        return created

    def _list(self, request: Recorded) -> Reply:
        to = request.query.get("To", [None])[0]
        sender = request.query.get("From", [None])[0]
        found = [
            s
            for s in reversed(self.accepted)
            if (to is None or s.to == to) and (sender is None or s.from_ == sender)
        ]
        page = {
            "messages": [self._resource(s) for s in found],
            "first_page_uri": self.messages_path + "?PageSize=50&Page=0",
            "next_page_uri": None,
            "previous_page_uri": None,
            "page": 0,
            "page_size": 50,
            "start": 0,
            "end": max(0, len(found) - 1),
            "uri": self.messages_path,
        }
        return Reply(200, page)

    def _resource(self, sms: SentSms) -> dict[str, Any]:
        return {
            "sid": sms.sid,
            "account_sid": self.account_sid,
            "to": sms.to,
            "from": sms.from_,
            "body": sms.body,
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "date_created": format_datetime(sms.date_created, usegmt=True),
            "date_updated": format_datetime(sms.date_created, usegmt=True),
            "date_sent": None,
            "uri": f"{self.messages_path[:-5]}/{sms.sid}.json",
        }


def _quoting(reply: Reply, to: str) -> Reply:
    """The scripted refusal with the number it refers to filled in, as Twilio's text has it."""
    if isinstance(reply.body, dict) and isinstance(reply.body.get("message"), str):
        body = {**reply.body, "message": reply.body["message"].replace("{to}", to)}
        return Reply(reply.status, body, reply.headers, reply.accept, reply.drop, reply.delay)
    return reply


def error(code: int, status: int = 400, retry_after: float | None = None) -> Reply:
    """Twilio's JSON error body with its error code (21211, 21610, 20429, ...)."""
    body = {
        "code": code,
        "message": _ERROR_TEXT.get(code, "error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return Reply(status, body, headers)


def rate_limited(retry_after: float) -> Reply:
    """429 / 20429: never processed, safe to retry after `Retry-After` seconds."""
    return error(20429, status=429, retry_after=retry_after)


def server_error(status: int = 500) -> Reply:
    """A 5xx without accepting the message."""
    return Reply(status, {"code": 20500, "message": "Internal Server Error", "status": status})


def accepted_then_dropped() -> Reply:
    """Twilio creates the message, but the connection drops before the 201 arrives."""
    return Reply(accept=True, drop=True)


def accepted_then_slow(seconds: float) -> Reply:
    """Twilio creates the message, then answers only after `seconds`."""
    return Reply(accept=True, delay=seconds)
