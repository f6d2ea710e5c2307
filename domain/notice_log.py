"""The notices of a case: asked for, sent per channel, then advanced by delivery reports."""

from collections.abc import Callable
from datetime import datetime

from domain.activity_io import ChannelOutcome
from domain.case import CaseState, NoticeChannelState, NoticeRecord
from domain.messages import DeliveryEvent
from domain.notices import Channel, DeliveryStatus, ExpiryReason, NoticeKind

_ORDER = list(DeliveryStatus)
_Change = Callable[[NoticeRecord], NoticeRecord]


def request_notice(
    state: CaseState,
    notice_id: str,
    kind: NoticeKind,
    now: datetime,
    deadline: datetime | None = None,
    fallback_of: str | None = None,
    via: Channel | None = None,
    expiry_reason: ExpiryReason | None = None,
    officer_reason: str | None = None,
) -> CaseState:
    """Note that the case asked for a notice (it is in flight until completed)."""
    notice = NoticeRecord(
        notice_id=notice_id,
        kind=kind,
        requested_at=now,
        deadline=deadline,
        fallback_of=fallback_of,
        via=via,
        expiry_reason=expiry_reason,
        officer_reason=officer_reason,
    )
    return state.model_copy(update={"notices": [*state.notices, notice]})


def complete_notice(
    state: CaseState,
    notice_id: str,
    outcomes: list[ChannelOutcome],
    now: datetime,
    error: str | None = None,
) -> CaseState:
    """Keep what sending a notice did on each channel (or why it gave up)."""
    channels = [
        NoticeChannelState(
            channel=o.channel,
            status=o.status,
            outbox_id=o.outbox_id,
            provider_message_id=o.provider_message_id,
            error=o.error,
            updated_at=now,
        )
        for o in outcomes
    ]
    return _replace(
        state,
        notice_id,
        lambda n: n.model_copy(update={"completed_at": now, "channels": channels, "error": error}),
    )


def apply_delivery(state: CaseState, event: DeliveryEvent) -> CaseState | None:
    """Advance one channel's status from a provider report; None when it changes nothing.

    Reports arrive late and out of order, so a status only moves forward.
    """
    notice = state.notice(event.notice_id)
    if notice is None:
        return None
    channel = next((c for c in notice.channels if c.channel is event.channel), None)
    if channel is None or _ORDER.index(event.status) <= _ORDER.index(channel.status):
        return None
    advanced = channel.model_copy(
        update={
            "status": event.status,
            "error": event.detail if event.status is DeliveryStatus.FAILED else channel.error,
            "updated_at": event.occurred_at,
        }
    )
    channels = [advanced if c is channel else c for c in notice.channels]
    return _replace(state, event.notice_id, lambda n: n.model_copy(update={"channels": channels}))


def notices_in_flight(state: CaseState) -> list[NoticeRecord]:
    """Notices asked for whose send has not finished."""
    return [n for n in state.notices if n.completed_at is None]


def _replace(state: CaseState, notice_id: str, change: _Change) -> CaseState:
    notices = [change(n) if n.notice_id == notice_id else n for n in state.notices]
    return state.model_copy(update={"notices": notices})
