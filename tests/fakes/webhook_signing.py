"""Signing webhook requests the way SendGrid (ECDSA P-256) and Twilio (HMAC-SHA1) do."""

import base64
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator


class SendGridSigner:
    """A fresh key pair; `public_key` is what SendGrid's Mail Settings page would show."""

    def __init__(self) -> None:
        self._private = ec.generate_private_key(ec.SECP256R1())
        der = self._private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: str | None = None) -> dict[str, str]:
        """The signature headers SendGrid sends with `body`."""
        stamp = timestamp or str(int(time.time()))
        signature = self._private.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        }


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> dict[str, str]:
    """The `X-Twilio-Signature` header Twilio sends when it calls `url` with `params`."""
    return {"X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, params)}
