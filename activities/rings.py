"""A ring's side effects on its member cases: an officer's action fanned out as each case's own
update, the `ring` signal that tells a case its ring, and the severity raise (an alert
through intake).

Safe to run twice: each member's update carries an id built from ring, decision and key
(Temporal answers a repeat with the first answer), signals only set the ring id, and the
raise's alert id is built from ring and case, so intake answers a repeat as a duplicate.
"""

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.store_access import utc_now
from api.errors import ApiError
from api.routes.case_actions import act_on_case
from domain.alerts import Alert, AlertKind
from domain.ids import case_workflow_id
from domain.messages import SignalName
from domain.officer import OFFICER_INPUTS, AddNoteInput, AssignInput, OfficerInput
from domain.rings.ring import (
    RAISED_SEVERITY,
    FanOutInput,
    FanOutResult,
    MemberOutcome,
    MemberTarget,
    RingActionInput,
    RingActivity,
    RingMembership,
    TellInput,
    TellResult,
)

CONCURRENT_UPDATES = 25  # member updates in flight at once: a ring of 100 in a few rounds
RaiseAlert = Callable[[Alert], Awaitable[object]]


def member_command(command: RingActionInput, ring_id: str) -> OfficerInput:
    """The case's own action input, carrying the officer, the reason and the ring."""
    kind = OFFICER_INPUTS[command.action]
    fields: dict[str, object] = {
        "actor": command.actor,
        "reason": command.reason,
        "ring_id": ring_id,
    }
    if kind is AssignInput:
        fields["assignee"] = command.assignee
    if kind is AddNoteInput:
        fields["text"] = command.text or ""
    return kind.model_validate(fields)


def ring_alert(
    ring_id: str, size: int, target: MemberTarget, exchange: str, now: datetime
) -> Alert:
    """The alert that raises a member case to at least high: the ring is big enough."""
    # One raise per ring and case: a repeat is a duplicate at intake, a key's next case is not.
    alert_id = f"ring.{ring_id}.{hashlib.sha256(target.case_id.encode()).hexdigest()[:32]}"
    return Alert(
        alert_id=alert_id,
        key_id=target.key_id,
        account_id=target.account_id,
        exchange=exchange,
        kind=AlertKind.COORDINATED_ACTIVITY,
        severity=RAISED_SEVERITY,
        observed_at=now,
        evidence={"ring_id": ring_id, "accounts": size},
    )


class RingActivities:
    """Reaches member cases through the Temporal client, and intake for the raise."""

    def __init__(
        self, client: Client, raise_alert: RaiseAlert, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._client = client
        self._raise_alert = raise_alert
        self._clock = clock

    @activity.defn(name=RingActivity.FAN_OUT)
    async def fan_out_ring_action(self, request: FanOutInput) -> FanOutResult:
        """Each member case's own update; a refusal is an outcome that says why."""
        command = member_command(request.command, request.ring_id)
        gate = asyncio.Semaphore(CONCURRENT_UPDATES)

        async def one(target: MemberTarget) -> MemberOutcome:
            async with gate:
                update_id = f"{request.ring_id}:{request.seq}:{target.key_id}"
                try:
                    result = await act_on_case(
                        self._client,
                        target.case_id,
                        request.command.action.value,
                        command,
                        update_id,
                    )
                except ApiError as error:
                    return MemberOutcome(
                        **target.model_dump(),
                        applied=False,
                        status=error.status_code,
                        code=error.code,
                        message=str(error.detail),
                    )
                return MemberOutcome(**target.model_dump(), applied=True, status=200, result=result)

        outcomes = await asyncio.gather(*(one(t) for t in request.targets))
        return FanOutResult(outcomes=list(outcomes))

    @activity.defn(name=RingActivity.TELL_MEMBERS)
    async def tell_ring_members(self, request: TellInput) -> TellResult:
        """Signal each new member case its ring; raise each (once) when the ring is big."""
        membership = RingMembership(ring_id=request.ring_id, size=request.size)
        told = 0
        for target in request.tell:
            handle = self._client.get_workflow_handle(case_workflow_id(target.key_id))
            try:
                await handle.signal(SignalName.RING, membership)
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
                continue  # the key's case has ended: nothing to tell
            told += 1
        raised = 0
        now = self._clock()
        for target in request.raise_severity:
            alert = ring_alert(request.ring_id, request.size, target, request.exchange, now)
            try:
                await self._raise_alert(alert)
            except ApiError as error:
                if error.status_code >= 500:
                    raise
                activity.logger.info("intake refused %s: %s", alert.alert_id, error.code)
                continue
            raised += 1
        return TellResult(told=told, raised=raised)
