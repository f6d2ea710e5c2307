"""E-mail through SendGrid's Mail Send API with the official `sendgrid` SDK."""

import asyncio
import json
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, From, Mail

from activities.notifications.ports import (
    Accepted,
    EmailMessage,
    PermanentSendError,
    TransientSendError,
)

DEFAULT_HOST = "https://api.sendgrid.com"
MAX_RATE_LIMIT_WAIT = timedelta(hours=1)


class SendGridEmail:
    """The e-mail port on SendGrid; the outbox id rides in `custom_args` onto every event."""

    provider = "sendgrid"
    # The Email Activity API lags behind Mail Send and needs an add-on: "not found" proves nothing.
    lookup_is_conclusive = False

    def __init__(
        self, api_key: str, from_email: str, host: str | None = None, timeout: float = 10.0
    ) -> None:
        self._api_key = api_key
        self._from_email = from_email
        self._host = host or DEFAULT_HOST
        self._timeout = timeout

    async def send(self, message: EmailMessage) -> Accepted:
        """POST /v3/mail/send; 202 carries the message id in `X-Message-Id`."""
        return await asyncio.to_thread(self._send, message)

    async def find(self, message: EmailMessage, since: datetime) -> Accepted | None:
        """Ask the Email Activity API for a message carrying this outbox id."""
        return await asyncio.to_thread(self._find, message.outbox_id)

    def _client(self) -> SendGridAPIClient:
        client = SendGridAPIClient(self._api_key, host=self._host)
        client.client.timeout = self._timeout
        return client

    def _send(self, message: EmailMessage) -> Accepted:
        mail = Mail(
            from_email=From(message.from_email or self._from_email, message.from_name),
            to_emails=message.to,
            subject=message.subject,
            plain_text_content=message.text,
        )
        mail.custom_arg = CustomArg("outbox_id", message.outbox_id)
        try:
            response = self._client().send(mail)
        except HTTPError as error:
            raise _classify(error) from error
        except (URLError, OSError) as error:
            raise _network_error(error) from error
        return Accepted(self.provider, response.headers.get("X-Message-Id"))

    def _find(self, outbox_id: str) -> Accepted | None:
        query = f"unique_args['outbox_id']=\"{outbox_id}\""
        try:
            response = self._client().client.messages.get(query_params={"query": query, "limit": 1})
            found: list[dict[str, Any]] = json.loads(response.body).get("messages", [])
        except (HTTPError, URLError, OSError, ValueError):
            return None  # no add-on, or unreachable: we learn nothing
        if not found or not found[0].get("msg_id"):
            return None
        # Events carry "<X-Message-Id>.<suffix>"; the outbox keeps the X-Message-Id part.
        return Accepted(self.provider, str(found[0]["msg_id"]).split(".", 1)[0])


def _classify(error: HTTPError) -> Exception:
    status = int(error.status_code)
    detail = f"sendgrid {status}: {_first_error(error)}"
    if status == 429:
        return TransientSendError(detail, retry_after=_reset_wait(error))
    if status >= 500:
        return TransientSendError(detail, in_doubt=True)
    # 400 (rejected address or payload), 401/403 (sender, key), 413, 451: retrying cannot help.
    return PermanentSendError(detail)


def _network_error(error: OSError) -> TransientSendError:
    reason = error.reason if isinstance(error, URLError) else error
    # Refused connections never reached SendGrid; anything later may have been accepted.
    refused = isinstance(reason, ConnectionRefusedError)
    return TransientSendError(f"sendgrid unreachable: {reason}", in_doubt=not refused)


def _reset_wait(error: HTTPError) -> timedelta | None:
    headers = error.headers
    reset = headers.get("X-RateLimit-Reset") if headers is not None else None
    if reset is None:
        return None
    try:
        wait = timedelta(seconds=max(0.0, float(reset) - time.time()))
    except (TypeError, ValueError):
        return None
    return min(wait, MAX_RATE_LIMIT_WAIT)


def _first_error(error: HTTPError) -> str:
    try:
        errors = json.loads(error.body)["errors"]
        return str(errors[0].get("message", errors[0]))[:300]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return str(error.reason)[:300]
