"""What officers see of a case in the Temporal UI: search attributes and current details.

Only ids, stages and times: no e-mail, phone number or secret ever goes here.
"""

from datetime import datetime

from temporalio import workflow
from temporalio.common import SearchAttributePair, SearchAttributeUpdate, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from domain.case import CaseState
    from domain.notices import NoticeKind
    from domain.search_attributes import (
        ASSIGNED_TO,
        CASE_ID,
        CASE_STAGE,
        EXCHANGE,
        KEY_ID,
        KYC_DEADLINE,
        PENDING_APPROVAL,
        RING_ID,
        SEVERITY,
    )
    from domain.stages import CaseStage

Shown = dict[str, str | datetime | None]


def shown(state: CaseState) -> Shown:
    """The search attribute values that describe the case now."""
    return {
        KEY_ID.name: state.key_id,
        CASE_ID.name: state.case_id,
        EXCHANGE.name: state.exchange,
        CASE_STAGE.name: state.stage.value,
        SEVERITY.name: state.severity.value,
        ASSIGNED_TO.name: state.assigned_to,
        KYC_DEADLINE.name: state.kyc_deadline,
        RING_ID.name: state.ring_id,
        PENDING_APPROVAL.name: state.pending_approval.action.value
        if state.pending_approval
        else None,
    }


def changes(
    before: Shown, now: Shown
) -> list[SearchAttributeUpdate[str] | SearchAttributeUpdate[datetime]]:
    """Updates for the attributes whose value changed (an unset for values gone)."""
    updates: list[SearchAttributeUpdate[str] | SearchAttributeUpdate[datetime]] = []
    for key in (
        KEY_ID,
        CASE_ID,
        EXCHANGE,
        CASE_STAGE,
        SEVERITY,
        ASSIGNED_TO,
        RING_ID,
        PENDING_APPROVAL,
    ):
        value = now[key.name]
        if value != before.get(key.name):
            updates.append(key.value_set(value) if isinstance(value, str) else key.value_unset())
    deadline = now[KYC_DEADLINE.name]
    if deadline != before.get(KYC_DEADLINE.name):
        updates.append(
            KYC_DEADLINE.value_set(deadline)
            if isinstance(deadline, datetime)
            else KYC_DEADLINE.value_unset()
        )
    return updates


def next_case(key_id: str, exchange: str) -> TypedSearchAttributes:
    """What a run opening the key's next case starts with: none of the ended case's values."""
    return TypedSearchAttributes(
        [SearchAttributePair(KEY_ID, key_id), SearchAttributePair(EXCHANGE, exchange)]
    )


def details(state: CaseState) -> str:
    """Markdown for the UI's current details, rewritten at each change of the case."""
    kinds = ", ".join(f"{kind.value}: {n}" for kind, n in state.alerts.kinds.items()) or "none"
    lines = [
        f"**Stage** {state.stage.value} since {state.stages[-1].at:%Y-%m-%d %H:%M} UTC"
        f" — {state.stages[-1].reason}",
        f"**Severity** {state.severity.value} · **alerts** {state.alerts.count} ({kinds})",
        f"**Policy** {_pinned(state)} · **assigned to** {state.assigned_to or 'nobody'}",
    ]
    if state.stage.is_open and state.kyc_deadline:
        lines.append(f"**KYC deadline** {state.kyc_deadline:%Y-%m-%d %H:%M} UTC")
    if state.probation_until and state.stage.is_open:
        lines.append(f"**Probation until** {state.probation_until:%Y-%m-%d %H:%M} UTC")
    warning = state.notice(NoticeKind.WARNING.value)
    if warning is not None and warning.completed_at is not None:
        reached = " and ".join(c.value for c in warning.reached_by) or "no channel yet"
        lines.append(f"**Warning reached the owner by** {reached}")
    if pending := state.pending_approval:
        lines.append(
            f"**Waiting for a second officer**: {pending.action.value} asked by"
            f" {pending.requested_by} — {pending.reason}; approve or reject-pending by"
            f" {pending.lapses_at:%Y-%m-%d %H:%M} UTC, or it lapses"
        )
    if state.stage is CaseStage.OWNER_UNREACHABLE:
        lines.append("**Waiting for an officer**: expire now (with a reason) or dismiss")
    if state.store_refusals:
        latest = state.store_refusals[-1]
        lines.append(
            f"**Store refused** {state.store_refusal_count} fact(s), the case went on;"
            f" latest {latest.event_type}: {latest.reason}"
        )
    if state.key_status:
        lines.append(f"**Key** {state.key_status.value}")
    if state.ring_id:
        lines.append(f"**Ring** {state.ring_id} ({state.ring_size} accounts when told)")
    return "  \n".join(lines)


def _pinned(state: CaseState) -> str:
    if state.policy_exchange is None:
        return state.policy_version
    return f"{state.policy_version} for {state.policy_exchange}"


class Showcase:
    """Keeps the UI in step with the case, writing only what changed."""

    def __init__(self, already_shown: CaseState | None) -> None:
        self._shown: Shown = shown(already_shown) if already_shown else {}
        self._details = ""

    def show(self, state: CaseState) -> None:
        """Upsert changed search attributes (one history event) and refresh the details."""
        now = shown(state)
        updates = changes(self._shown, now)
        if updates:
            workflow.upsert_search_attributes(updates)
            self._shown = now
        text = details(state)
        if text != self._details:
            workflow.set_current_details(text)  # metadata only: no history event
            self._details = text
