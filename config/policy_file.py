"""Reading the ladder policy file (`KEYCASE_POLICY_FILE`, else the shipped default)."""

from importlib import resources
from pathlib import Path

from domain.policy import LadderPolicy, PolicyError, parse_policy

DEFAULT_POLICY = "policy.toml"  # shipped as package data of `config`


def read_policy_file(path: Path | None) -> LadderPolicy:
    """The policy in `path` (KEYCASE_POLICY_FILE) or the shipped default; PolicyError if bad."""
    if path is None:
        text = resources.files("config").joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")
        return parse_policy(text, f"config/{DEFAULT_POLICY} (default)")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(f"policy {path}: cannot be read: {error.strerror or error}") from error
    return parse_policy(text, str(path))
