"""The `publish_anchor` activity: sign the chain's head into `audit_anchors` and the file."""

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio import activity

from activities.store_access import utc_now
from config.signing import sign_head
from domain.anchors import Anchor
from domain.reports.schedules import ActivityName, AnchorInput, AnchorResult
from store.anchors import publish_anchor
from store.port import Store

ANCHORS_FILE = "audit_anchors.jsonl"


def append_to_file(path: Path, anchor: Anchor) -> bool:
    """Append `anchor` unless the file already holds this head or a later one (retries)."""
    if path.exists():
        lines = path.read_text().splitlines()
        if lines and json.loads(lines[-1])["chain_seq"] >= anchor.chain_seq:
            return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as file:
        file.write(anchor.model_dump_json() + "\n")
    return True


class AnchorPublisher:
    """Anchors the head now: in the store (always) and in the data folder's anchors file."""

    def __init__(
        self,
        store: Store,
        key: Ed25519PrivateKey,
        data_dir: Path,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._key = key
        self._file = data_dir / ANCHORS_FILE
        self._clock = clock

    async def publish(self, reason: str) -> Anchor | None:
        """The anchor of the head as it is now (the stored one if that head has one)."""
        now = self._clock()
        anchor = await self._store.write(
            lambda c: publish_anchor(
                c, lambda seq, row_hash, at: sign_head(self._key, seq, row_hash, at, reason), now
            )
        )
        if anchor is not None:
            append_to_file(self._file, anchor)
        return anchor

    @activity.defn(name=ActivityName.PUBLISH_ANCHOR)
    async def publish_anchor(self, request: AnchorInput) -> AnchorResult:
        """Publish one anchor (see `publish`)."""
        anchor = await self.publish(request.reason)
        if anchor is None:
            return AnchorResult()
        return AnchorResult(
            chain_seq=anchor.chain_seq, row_hash=anchor.row_hash, anchored_at=anchor.anchored_at
        )
