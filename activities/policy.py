"""The ladder policy: read once when the worker starts, handed to each new case."""

from temporalio import activity

from config.policy_file import read_detection_policy, read_policy_file
from domain.activity_io import ActivityName
from domain.policy import LadderPolicy, LoadPolicyInput, LoadPolicyResult

__all__ = ["PolicyActivities", "read_detection_policy", "read_policy_file"]


class PolicyActivities:
    """Serves the policy the worker validated at start, so a bad file never reaches a case."""

    def __init__(self, policy: LadderPolicy) -> None:
        self._policy = policy

    @activity.defn(name=ActivityName.LOAD_POLICY)
    async def load_policy(self, request: LoadPolicyInput) -> LoadPolicyResult:
        """The current policy; the case pins it for its whole life."""
        activity.logger.info("case %s pinned policy %s", request.case_id, self._policy.version)
        return LoadPolicyResult(policy=self._policy)
