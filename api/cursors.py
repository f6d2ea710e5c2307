"""List cursors the API issued, and only those: Temporal's page token under an HMAC.

A page token the server never issued makes Temporal's list call fail only after the
client has retried it for seconds; a cursor that does not carry this API's MAC is
refused at once with a 400 instead.
"""

import base64
import binascii
import hashlib
import hmac

from api.errors import ApiError

_MAC_BYTES = 16


class Cursors:
    """Signs page tokens into cursors and reads them back."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def from_token_spec(cls, spec: str) -> "Cursors":
        """Every API process configured with the same tokens accepts the others' cursors."""
        return cls(hashlib.sha256(b"keycase list cursor\0" + spec.encode()).digest())

    def issue(self, token: bytes) -> str:
        """The cursor handed out for `token`."""
        return base64.urlsafe_b64encode(self._mac(token) + token).decode()

    def read(self, cursor: str) -> bytes:
        """The page token inside `cursor`; a 400 ApiError for any cursor not issued here."""
        try:
            raw = base64.urlsafe_b64decode(cursor.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raw = b""
        mac, token = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        if not token or not hmac.compare_digest(mac, self._mac(token)):
            raise ApiError(400, "bad_cursor", "cursor is not one this API returned")
        return token

    def _mac(self, token: bytes) -> bytes:
        return hmac.new(self._secret, token, hashlib.sha256).digest()[:_MAC_BYTES]
