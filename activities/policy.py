"""The ladder policy: read once when the worker starts, handed to each new case."""

from importlib import resources
from pathlib import Path

from temporalio import activity

from domain.activity_io import ActivityName
from domain.policy import LadderPolicy, LoadPolicyInput, LoadPolicyResult, PolicyError, parse_policy

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


class PolicyActivities:
    """Serves the policy the worker validated at start, so a bad file never reaches a case."""

    def __init__(self, policy: LadderPolicy) -> None:
        self._policy = policy

    @activity.defn(name=ActivityName.LOAD_POLICY)
    async def load_policy(self, request: LoadPolicyInput) -> LoadPolicyResult:
        """The current policy; the case pins it for its whole life."""
        activity.logger.info("case %s pinned policy %s", request.case_id, self._policy.version)
        return LoadPolicyResult(policy=self._policy)
