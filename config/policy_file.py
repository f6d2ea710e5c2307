"""Reading the policy file (`KEYCASE_POLICY_FILE`, else the shipped default)."""

from importlib import resources
from pathlib import Path

from domain.appeals import AppealsPolicy, parse_appeals_policy
from domain.detection.policy import DetectionPolicy, parse_detection_policy
from domain.policy import LadderPolicy, PolicyError, parse_policy
from domain.rings.policy import RingPolicy, parse_ring_policy

DEFAULT_POLICY = "policy.toml"  # shipped as package data of `config`


def read_policy_file(path: Path | None) -> LadderPolicy:
    """The policy in `path` (KEYCASE_POLICY_FILE) or the shipped default; PolicyError if bad."""
    return parse_policy(*_policy_text(path))


def read_detection_policy(path: Path | None) -> DetectionPolicy:
    """The same file's `[detection]` and `[detectors.*]` tables; PolicyError if bad."""
    return parse_detection_policy(*_policy_text(path))


def read_appeals_policy(path: Path | None) -> AppealsPolicy:
    """The same file's `[appeals]` table (defaults when absent); PolicyError if bad."""
    return parse_appeals_policy(*_policy_text(path))


def read_ring_policy(path: Path | None) -> RingPolicy:
    """The same file's `[rings]` table; PolicyError naming the field if it is bad."""
    return parse_ring_policy(*_policy_text(path))


def _policy_text(path: Path | None) -> tuple[str, str]:
    """The file's text and how error messages name it."""
    if path is None:
        text = resources.files("config").joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")
        return text, f"config/{DEFAULT_POLICY} (default)"
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as error:
        raise PolicyError(f"policy {path}: cannot be read: {error.strerror or error}") from error
