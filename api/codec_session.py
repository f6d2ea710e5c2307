"""Codec sessions: a signed, expiring cookie an officer or auditor opens with their token.

The Temporal UI cannot send our bearer tokens, but it can send cookies ("Include
cross-origin credentials" in its codec settings). The cookie names the principal and its
expiry, signed with HMAC-SHA256; it never holds the token itself."""

import base64
import hashlib
import hmac
import time

from api.auth import Principal, Role

COOKIE = "keycase_codec"
LIFETIME_SECONDS = 8 * 3600  # one working shift


class CodecSessions:
    """Issues and checks session cookies under one secret (shared by the API's processes)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = hashlib.sha256(b"keycase codec session\0" + secret).digest()

    def issue(self, principal: Principal, now: float | None = None) -> str:
        """A cookie value for `principal`, valid for LIFETIME_SECONDS."""
        expires = int((now if now is not None else time.time()) + LIFETIME_SECONDS)
        body = f"{principal.role.value}|{principal.name}|{expires}"
        return f"{_b64(body.encode())}.{_b64(self._sign(body))}"

    def principal_for(self, cookie: str, now: float | None = None) -> Principal | None:
        """The principal a valid, unexpired cookie names; None for anything else."""
        encoded, _, signature = cookie.partition(".")
        try:
            body = base64.urlsafe_b64decode(encoded + "==").decode()
            given = base64.urlsafe_b64decode(signature + "==")
        except (ValueError, UnicodeDecodeError):
            return None
        if not hmac.compare_digest(given, self._sign(body)):
            return None
        role, name, expires = body.split("|")
        if int(expires) < (now if now is not None else time.time()):
            return None
        return Principal(role=Role(role), name=name)

    def _sign(self, body: str) -> bytes:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
