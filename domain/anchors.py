"""Anchors: the audit chain's head (seq, hash, time), signed and kept outside the chain.

The chain alone cannot show that its last rows were deleted, or that it was rewritten
whole with fresh hashes: every link would still check. An anchor is a signed statement
"row `seq` had hash `row_hash` at `anchored_at`"; checking the chain against every anchor
finds both, and an anchor signed without the key fails its signature. The rules here are
pure: signing and verifying come in as functions.
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

ANCHOR_FORMAT = "keycase-anchor/v1"


class Anchor(BaseModel):
    """One signed head of the chain; `signature` is base64 Ed25519 over `anchor_message`."""

    model_config = ConfigDict(frozen=True)

    chain_seq: int = Field(ge=1)
    row_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    anchored_at: AwareDatetime
    key_id: str = Field(max_length=32)
    signature: str = Field(max_length=128)
    reason: str = Field(default="schedule", max_length=32)  # "schedule", "report", "manual"


class AnchorProblem(StrEnum):
    """Why an anchor no longer matches the chain."""

    FORGED = "forged_signature"  # not signed by this deployment's key
    MISSING_TAIL = "missing_tail"  # the anchored row is gone: the chain was cut short
    REWRITTEN = "rewritten"  # the row is there with another hash: the chain was rewritten


class AnchorCheck(BaseModel):
    """The chain against its anchors; `first_bad_anchor` is that anchor's `chain_seq`."""

    model_config = ConfigDict(frozen=True)

    anchors_checked: int
    first_bad_anchor: int | None = None
    first_bad_anchored_at: AwareDatetime | None = None
    problem: AnchorProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def anchor_message(chain_seq: int, row_hash: str, anchored_at: datetime) -> bytes:
    """The exact bytes an anchor's signature covers."""
    instant = anchored_at.astimezone(UTC).isoformat(timespec="microseconds")
    return f"{ANCHOR_FORMAT}\n{chain_seq}\n{row_hash}\n{instant}".encode()


def check_anchors(
    anchors: Iterable[Anchor],
    hash_at: Mapping[int, str],
    signature_ok: Callable[[Anchor], bool],
) -> AnchorCheck:
    """Check anchors oldest first against `hash_at` (the chain's row hash by seq).

    The first anchor that is forged, points past the chain's end, or disagrees with the
    row it names is reported; later ones are not looked at."""
    checked = 0
    for anchor in sorted(anchors, key=lambda a: (a.chain_seq, a.anchored_at)):
        checked += 1
        problem: AnchorProblem | None = None
        if not signature_ok(anchor):
            problem = AnchorProblem.FORGED
        elif anchor.chain_seq not in hash_at:
            problem = AnchorProblem.MISSING_TAIL
        elif hash_at[anchor.chain_seq] != anchor.row_hash:
            problem = AnchorProblem.REWRITTEN
        if problem is not None:
            return AnchorCheck(
                anchors_checked=checked,
                first_bad_anchor=anchor.chain_seq,
                first_bad_anchored_at=anchor.anchored_at,
                problem=problem,
            )
    return AnchorCheck(anchors_checked=checked)
