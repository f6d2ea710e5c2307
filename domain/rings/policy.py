"""The `[rings]` table of the policy file: what links make accounts one ring, and when it is big.

Optional, with shipped defaults; a bad table fails at start naming the field, like the ladder.
"""

import tomllib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.policy import PolicyError, policy_problems

LinkKind = Literal["shared_origin", "related_keys"]


class RingPolicy(BaseModel):
    """Two accounts are one ring once `min_links` links of `kinds` connect them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # A shared address is evidence, not identity: how many distinct links make two accounts one.
    min_links: int = Field(default=1, ge=1, le=100)
    kinds: tuple[LinkKind, ...] = Field(default=("shared_origin", "related_keys"), min_length=1)
    # A ring of at least this many accounts raises its members' cases to at least high.
    raise_at: int = Field(default=3, ge=2, le=10_000)


class _RingsFile(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    rings: RingPolicy = RingPolicy()


def parse_ring_policy(text: str, source: str) -> RingPolicy:
    """The `[rings]` table of a policy file; PolicyError naming the field if it is bad."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"policy {source}: not valid TOML: {error}") from error
    try:
        return _RingsFile.model_validate({"rings": data.get("rings", {})}).rings
    except ValidationError as error:
        raise PolicyError(f"policy {source}: {policy_problems(error)}") from error
