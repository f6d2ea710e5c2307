"""SMS through Twilio's Messages API with the official `twilio` SDK."""

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
import urllib3
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from activities.notifications.ports import (
    Accepted,
    PermanentSendError,
    SmsMessage,
    TransientSendError,
)

# 20429: too many requests, never processed. 21611: the sender's queue is full for now.
_NOT_PROCESSED_CODES = {20429, 21611}
_CLOCK_SKEW = timedelta(minutes=2)
MAX_RETRY_AFTER = timedelta(hours=1)
# The SDK logs each request at INFO, query strings (phone numbers) included: keep that out.
_SDK_LOG = logging.getLogger("keycase.twilio_sdk")
_SDK_LOG.setLevel(logging.WARNING)


class TwilioSms:
    """The SMS port on Twilio; the outbox id rides in the status callback URL."""

    provider = "twilio"
    # Twilio lists a message as soon as it accepts it, so "not listed" means "not accepted".
    lookup_is_conclusive = True

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        status_callback_url: str,
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from = from_number
        self._callback = status_callback_url
        self._base_url = base_url
        self._timeout = timeout

    async def send(self, message: SmsMessage) -> Accepted:
        """POST Messages.json with a status callback naming the outbox row."""
        return await asyncio.to_thread(self._send, message)

    async def find(self, message: SmsMessage, since: datetime) -> Accepted | None:
        """A message to this number with this exact text, created since the earlier attempt."""
        return await asyncio.to_thread(self._find, message, since)

    def _client(self, headers_seen: list[Any]) -> Client:
        # A client per call: its response hook sees only this call's headers (Retry-After).
        def keep_headers(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            headers_seen.append(response.headers)

        http = TwilioHttpClient(
            pool_connections=False,
            request_hooks={"response": [keep_headers]},
            timeout=self._timeout,
            logger=_SDK_LOG,
        )
        client = Client(self._account_sid, self._auth_token, http_client=http)
        if self._base_url:
            client.api.base_url = self._base_url
        return client

    def _send(self, message: SmsMessage) -> Accepted:
        headers_seen: list[Any] = []
        callback = f"{self._callback}?{urlencode({'outbox_id': message.outbox_id})}"
        try:
            created = self._client(headers_seen).messages.create(
                to=message.to,
                from_=message.from_number or self._from,
                body=message.text,
                status_callback=callback,
            )
        except TwilioRestException as error:
            raise _classify(error, headers_seen) from error
        except requests.exceptions.RequestException as error:
            raise _network_error(error) from error
        except TwilioException as error:  # e.g. an unreadable answer: the send may have happened
            raise TransientSendError(f"twilio: {error}", in_doubt=True) from error
        return Accepted(self.provider, created.sid)

    def _find(self, message: SmsMessage, since: datetime) -> Accepted | None:
        try:
            sender = message.from_number or self._from
            listed = self._client([]).messages.list(to=message.to, from_=sender, limit=20)
        except (TwilioException, requests.exceptions.RequestException) as error:
            raise TransientSendError(f"twilio lookup failed: {error}") from error
        for item in listed:
            created = item.date_created
            if item.body == message.text and (created is None or created >= since - _CLOCK_SKEW):
                return Accepted(self.provider, item.sid)
        return None


def _classify(error: TwilioRestException, headers_seen: list[Any]) -> Exception:
    status = int(error.status)
    code = int(error.code) if error.code is not None else status
    detail = f"twilio {status}/{code}: {error.msg}"[:300]
    if status == 429 or code in _NOT_PROCESSED_CODES:
        return TransientSendError(detail, retry_after=_retry_after(headers_seen))
    if status >= 500:
        return TransientSendError(detail, in_doubt=True)
    # 21211 invalid number, 21610 unsubscribed, 21608/21612/21614/21606/21635 and auth errors.
    return PermanentSendError(detail)


def _network_error(error: requests.exceptions.RequestException) -> TransientSendError:
    # Failing to connect means Twilio never saw the request; a read timeout or reset may not.
    reason = getattr(error.args[0], "reason", None) if error.args else None
    not_sent = isinstance(error, requests.exceptions.ConnectTimeout) or isinstance(
        reason, urllib3.exceptions.NewConnectionError
    )
    return TransientSendError(f"twilio unreachable: {error}"[:300], in_doubt=not not_sent)


def _retry_after(headers_seen: list[Any]) -> timedelta | None:
    value = headers_seen[-1].get("Retry-After") if headers_seen else None
    if value is None:
        return None
    try:
        return min(timedelta(seconds=max(0.0, float(value))), MAX_RETRY_AFTER)
    except (TypeError, ValueError):
        return None
