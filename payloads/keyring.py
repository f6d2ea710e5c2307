"""Payload keys: `KEYCASE_PAYLOAD_KEYS` parsing, generation, and the local stack's key file."""

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from config.secret_files import read_or_create

KEYS_FILE = "payload_keys"
KEY_BYTES = 32  # AES-256
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


@dataclass(frozen=True)
class PayloadKeys:
    """Named AES-256 keys: the first encrypts new payloads, every one decrypts old ones."""

    keys: tuple[tuple[str, bytes], ...]

    @property
    def current(self) -> tuple[str, bytes]:
        return self.keys[0]

    def by_id(self) -> dict[str, bytes]:
        return dict(self.keys)

    @classmethod
    def parse(cls, spec: str) -> "PayloadKeys":
        """Parse `id:base64key,...` (newest first); raises ValueError naming a bad entry."""
        found: list[tuple[str, bytes]] = []
        for position, raw in enumerate(spec.split(","), start=1):
            entry = raw.strip()
            if not entry:
                continue
            key_id, sep, encoded = entry.partition(":")
            if not sep or not _KEY_ID.match(key_id):
                raise ValueError(f"KEYCASE_PAYLOAD_KEYS entry {position}: expected id:base64key")
            try:
                # Either alphabet, strictly: a typo must not silently shorten the key.
                standard = encoded.replace("-", "+").replace("_", "/")
                key = base64.b64decode(standard.encode(), validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"KEYCASE_PAYLOAD_KEYS entry {position}: not base64") from None
            if len(key) != KEY_BYTES:
                raise ValueError(f"KEYCASE_PAYLOAD_KEYS entry {position}: key is not 32 bytes")
            if key_id in dict(found):
                raise ValueError(f"KEYCASE_PAYLOAD_KEYS entry {position}: id {key_id} used twice")
            found.append((key_id, key))
        if not found:
            raise ValueError("KEYCASE_PAYLOAD_KEYS has no keys")
        return cls(tuple(found))


def generate_key_entry() -> str:
    """One fresh `id:base64key` entry; prepend it to the spec to rotate."""
    key = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    return f"k{secrets.token_hex(4)}:{key}"


def load_or_create_keys(data_dir: Path) -> str:
    """The key spec saved in `data_dir`, created owner-only on first use (see
    `config.secret_files.read_or_create`: processes starting together agree)."""
    return read_or_create(data_dir / KEYS_FILE, generate_key_entry)
