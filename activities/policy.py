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
        """The case's exchange's effective policy; the case pins it for its whole life."""
        policy = self._policy.for_exchange(request.exchange) if request.exchange else self._policy
        activity.logger.info(
            "case %s pinned policy %s for %s",
            request.case_id,
            policy.version,
            request.exchange or "every exchange",
        )
        return LoadPolicyResult(policy=policy)
