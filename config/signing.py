"""The audit anchors' Ed25519 signing key: configured, or generated once into the data dir.

`KEYCASE_ANCHOR_SIGNING_KEY` is the base64 of the 32-byte private seed. Unset, the local
stack keeps one in `<data_dir>/anchor_signing_key` (owner-only), like the API tokens and
the payload key; whoever holds it can sign anchors, whoever holds its public half checks them.
"""

import base64
import binascii
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from config.secret_files import read_or_create
from config.settings import Settings
from domain.anchors import Anchor, anchor_message

KEY_FILE = "anchor_signing_key"
SEED_BYTES = 32


def parse_seed(spec: str) -> Ed25519PrivateKey:
    """The key from the base64 of its seed; raises ValueError saying what is wrong."""
    try:
        seed = base64.b64decode(spec.strip().replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("KEYCASE_ANCHOR_SIGNING_KEY is not base64") from None
    if len(seed) != SEED_BYTES:
        raise ValueError("KEYCASE_ANCHOR_SIGNING_KEY is not a 32-byte Ed25519 seed")
    return Ed25519PrivateKey.from_private_bytes(seed)


def generate_seed() -> str:
    """A fresh seed, base64 (what `KEYCASE_ANCHOR_SIGNING_KEY` takes)."""
    return base64.b64encode(secrets.token_bytes(SEED_BYTES)).decode()


def load_or_create_seed(data_dir: Path) -> str:
    """The seed saved in `data_dir`, written whole and owner-only on first use."""
    return read_or_create(data_dir / KEY_FILE, generate_seed)


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The configured key, else the data dir's (made on first use)."""
    if settings.anchor_signing_key is not None:
        return parse_seed(settings.anchor_signing_key.get_secret_value())
    return parse_seed(load_or_create_seed(settings.data_dir))


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short name for the public key (first 16 hex of its SHA-256), stored with each anchor."""
    return hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def sign_head(
    key: Ed25519PrivateKey, chain_seq: int, row_hash: str, at: datetime, reason: str
) -> Anchor:
    """The anchor of the chain's head `chain_seq`/`row_hash`, signed at `at`."""
    signature = key.sign(anchor_message(chain_seq, row_hash, at))
    return Anchor(
        chain_seq=chain_seq,
        row_hash=row_hash,
        anchored_at=at,
        key_id=key_id(key.public_key()),
        signature=base64.b64encode(signature).decode(),
        reason=reason,
    )


def signature_checker(key: Ed25519PublicKey) -> Callable[[Anchor], bool]:
    """Does an anchor's signature verify under `key`?"""

    def ok(anchor: Anchor) -> bool:
        try:
            signature = base64.b64decode(anchor.signature, validate=True)
            message = anchor_message(anchor.chain_seq, anchor.row_hash, anchor.anchored_at)
            key.verify(signature, message)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    return ok
