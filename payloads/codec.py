"""AES-256-GCM payload codec: every payload keycase sends through Temporal, encrypted."""

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from payloads.keyring import PayloadKeys

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NONCE_BYTES = 12


class PayloadDecryptError(ValueError):
    """A payload that claims to be encrypted but no configured key opens."""


class AesGcmCodec(PayloadCodec):
    """Encrypts whole payloads (metadata and data) under the newest key, naming it.

    The key id is bound into the ciphertext as associated data, so swapping it fails.
    Payloads without the encrypted encoding pass through: histories recorded before
    encryption (and the replay tests' recordings) still decode."""

    def __init__(self, keys: PayloadKeys) -> None:
        self._current_id, current = keys.current
        self._current = AESGCM(current)
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.by_id().items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each payload under the current key."""
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt each encrypted payload with the key it names; others as they are."""
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        """One payload, encrypted."""
        nonce = os.urandom(_NONCE_BYTES)
        key_id = self._current_id.encode()
        sealed = self._current.encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        """One payload, decrypted if it is encrypted."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"")
        cipher = self._ciphers.get(key_id.decode(errors="replace"))
        if cipher is None:
            raise PayloadDecryptError(f"no payload key {key_id.decode(errors='replace')!r}")
        nonce, sealed = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id)
        except InvalidTag:
            raise PayloadDecryptError("payload does not open with its key") from None
        return Payload.FromString(plain)
