"""Whether a notice reached the key's owner, and its retries through the other channel.

A notice goes out by e-mail and SMS at once. A channel that fails (refused when sent, or
reported bounced or undelivered later) is retried once through the other channel, unless
that one already reaches the owner or itself bounced. A notice reached the owner while a
provider has accepted it on some channel, its own or a retry's, and not reported it failed.
"""

from domain.case import CaseState, NoticeChannelState, NoticeRecord
from domain.notices import Channel, DeliveryStatus

REACHING = frozenset({DeliveryStatus.SENT, DeliveryStatus.DELIVERED})


def retry_id(notice_id: str, channel: Channel) -> str:
    """The notice id of a retry through `channel`, e.g. `warning:via:sms`."""
    return f"{notice_id}:via:{channel.value}"


def root_of(state: CaseState, notice_id: str) -> NoticeRecord | None:
    """The notice a retry retries (or the notice itself)."""
    notice = state.notice(notice_id)
    if notice is not None and notice.fallback_of is not None:
        return state.notice(notice.fallback_of)
    return notice


def family(state: CaseState, root: NoticeRecord) -> list[NoticeRecord]:
    """A notice and its retries."""
    return [root, *(n for n in state.notices if n.fallback_of == root.notice_id)]


def reached_by(members: list[NoticeRecord]) -> list[Channel]:
    """The channels on which some provider accepted the notice and reported no failure."""
    found = [c.channel for m in members for c in m.channels if c.status in REACHING]
    return list(dict.fromkeys(found))


def note_reach(state: CaseState, root_id: str) -> CaseState:
    """Keep on the notice which channels reach the owner now."""
    root = state.notice(root_id)
    if root is None:
        return state
    reach = reached_by(family(state, root))
    notices = [
        n.model_copy(update={"reached_by": reach}) if n.notice_id == root_id else n
        for n in state.notices
    ]
    return state.model_copy(update={"notices": notices})


def retries_due(state: CaseState, root: NoticeRecord) -> list[Channel]:
    """The channels to retry the notice through now (each at most once)."""
    members = family(state, root)
    reaching = set(reached_by(members))
    tried = {m.via for m in members if m.via is not None}
    failed = [c for m in members for c in m.channels if c.status is DeliveryStatus.FAILED]
    bounced = {c.channel for c in failed if _was_accepted(c)}
    due: list[Channel] = []
    for channel in failed:
        other = _other(channel.channel)
        if other in reaching or other in tried or other in bounced or other in due:
            continue
        due.append(other)
    return due


def is_settled(state: CaseState, root: NoticeRecord) -> bool:
    """Every send of the notice and its retries has finished."""
    return all(n.completed_at is not None for n in family(state, root))


def _was_accepted(channel: NoticeChannelState) -> bool:
    # A provider id is kept only from an accepted send: this failure was reported later.
    return channel.provider_message_id is not None


def _other(channel: Channel) -> Channel:
    return Channel.SMS if channel is Channel.EMAIL else Channel.EMAIL
