"""The `send_notice` activity: one notice to a key's owner by e-mail and SMS, each exactly once.

Per channel the outbox row is read first: a row already sent, delivered or failed is reported
and left alone. Otherwise the attempt is committed as "in doubt" before the provider is called,
and the answer is committed after. A retry that finds a row still in doubt (the provider timed
out, answered 5xx, or the worker died before recording its answer) never sends blindly: it asks
the provider for the earlier message first. Where the provider's "not found" is conclusive
(Twilio) it sends again at once; where it is not (SendGrid's activity feed lags), it waits up to
`settle_window` for a webhook or the feed to show the message, then sends again, accepting a
rare duplicate over a warning that never arrives.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifications.ports import (
    EmailMessage,
    EmailPort,
    NoticePort,
    PermanentSendError,
    SmsMessage,
    SmsPort,
    TransientSendError,
)
from activities.notifications.renderer import NoticeRenderer, RenderedNotice
from domain.effects import ActivityName, ChannelOutcome, SendNoticeInput, SendNoticeResult
from domain.notices import Channel, DeliveryStatus
from store.accounts import AccountRecord, get_account
from store.outbox import NotificationOutbox, OutboxEntry
from store.uow import run_write

NOT_YET_SENT = "NoticeNotYetSent"


@dataclass(frozen=True)
class _Retry:
    """A channel that could not finish now; the activity raises after both channels ran."""

    reason: str
    after: timedelta | None


@dataclass(frozen=True)
class _Plan:
    channel: Channel
    port: NoticePort[Any]
    recipient: str | None
    subject: str | None
    text: str


class NoticeActivities:
    """Sends notices through the e-mail and SMS ports, recording each in the outbox."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        email: EmailPort,
        sms: SmsPort,
        renderer: NoticeRenderer,
        clock: Callable[[], datetime] | None = None,
        settle_window: timedelta = timedelta(minutes=10),
        max_attempts: int = 10,
    ) -> None:
        self._sessions = sessions
        self._email = email
        self._sms = sms
        self._renderer = renderer
        self._clock = clock or (lambda: datetime.now(UTC))
        self._settle_window = settle_window
        self._max_attempts = max_attempts

    @activity.defn(name=ActivityName.SEND_NOTICE)
    async def send_notice(self, notice: SendNoticeInput) -> SendNoticeResult:
        """Send (or account for) the notice on both channels; raise to be retried if needed."""
        async with self._sessions() as session:
            account = await get_account(session, notice.account_id)
        rendered = self._renderer.render(notice, account.locale if account else None)
        outcomes: list[ChannelOutcome] = []
        retries: list[_Retry] = []
        for plan in self._plans(account, rendered):
            step = await self._run_channel(notice, plan)
            if isinstance(step, _Retry):
                retries.append(step)
            else:
                outcomes.append(step)
        if retries:
            delays = [r.after for r in retries if r.after is not None]
            raise ApplicationError(
                "; ".join(r.reason for r in retries),
                type=NOT_YET_SENT,
                next_retry_delay=max(delays) if delays else None,
            )
        return SendNoticeResult(notice_id=notice.notice_id, outcomes=outcomes)

    def _plans(self, account: AccountRecord | None, rendered: RenderedNotice) -> list[_Plan]:
        return [
            _Plan(
                Channel.EMAIL,
                self._email,
                account.email if account else None,
                rendered.subject,
                rendered.email_text,
            ),
            _Plan(
                Channel.SMS, self._sms, account.phone if account else None, None, rendered.sms_text
            ),
        ]

    async def _run_channel(self, notice: SendNoticeInput, plan: _Plan) -> ChannelOutcome | _Retry:
        now = self._clock()
        missing = None if plan.recipient else f"no {plan.channel.value} contact on file"

        async def claim(session: AsyncSession) -> OutboxEntry:
            return await NotificationOutbox(session).claim(
                case_id=notice.case_id,
                notice_id=notice.notice_id,
                channel=plan.channel,
                notice=notice.notice.value,
                subject=plan.subject,
                body=plan.text,
                recipient_hint=None,
                now=now,
                failed_because=missing,
            )

        entry = await run_write(self._sessions, claim)
        if entry.status != DeliveryStatus.PENDING:
            return _outcome(entry)
        if not plan.recipient:
            return await self._fail(entry, missing or "no contact")
        # The text stored with the first attempt is the one sent, so retries match it exactly.
        message = _message(plan, entry, plan.recipient)
        if entry.in_doubt:
            resolved = await self._resolve_doubt(entry, plan.port, message, now)
            if resolved is not None:
                return resolved
        if entry.attempts >= self._max_attempts:
            gave_up = f"gave up after {entry.attempts} attempts: {entry.error}"
            return await self._fail(entry, gave_up)
        return await self._attempt(entry, plan.port, message)

    async def _resolve_doubt(
        self, entry: OutboxEntry, port: NoticePort[Any], message: Any, now: datetime
    ) -> ChannelOutcome | _Retry | None:
        """After an attempt with no known outcome: the outcome, a wait, or None to send again."""
        since = entry.last_attempt_at or now
        try:
            found = await port.find(message, since)
        except TransientSendError:
            found, conclusive = None, False
        else:
            conclusive = port.lookup_is_conclusive
        if found is not None:
            return await self._record(entry, found.provider, found.message_id)
        waited = now - since
        if not conclusive and waited < self._settle_window:
            return _Retry(
                f"{entry.channel.value}: waiting for evidence of an earlier attempt",
                self._settle_window - waited,
            )
        return None

    async def _attempt(
        self, entry: OutboxEntry, port: NoticePort[Any], message: Any
    ) -> ChannelOutcome | _Retry:
        attempted_at = self._clock()

        async def begin(session: AsyncSession) -> None:
            await NotificationOutbox(session).begin_attempt(
                entry.outbox_id, _hint(message.to), attempted_at
            )

        await run_write(self._sessions, begin)
        try:
            accepted = await port.send(message)
        except PermanentSendError as error:
            return await self._fail(entry, str(error))
        except TransientSendError as error:
            detail, in_doubt = str(error), error.in_doubt

            async def note(session: AsyncSession) -> None:
                outbox = NotificationOutbox(session)
                await outbox.note_error(entry.outbox_id, detail, in_doubt, self._clock())

            await run_write(self._sessions, note)
            return _Retry(f"{entry.channel.value}: {detail}", error.retry_after)
        return await self._record(entry, accepted.provider, accepted.message_id)

    async def _record(
        self, entry: OutboxEntry, provider: str, message_id: str | None
    ) -> ChannelOutcome:
        async def sent(session: AsyncSession) -> OutboxEntry:
            outbox = NotificationOutbox(session)
            return await outbox.mark_sent(entry.outbox_id, provider, message_id, self._clock())

        return _outcome(await run_write(self._sessions, sent))

    async def _fail(self, entry: OutboxEntry, error: str) -> ChannelOutcome:
        async def failed(session: AsyncSession) -> OutboxEntry:
            return await NotificationOutbox(session).mark_failed(
                entry.outbox_id, error, self._clock()
            )

        return _outcome(await run_write(self._sessions, failed))


def _message(plan: _Plan, entry: OutboxEntry, recipient: str) -> EmailMessage | SmsMessage:
    if plan.channel == Channel.EMAIL:
        return EmailMessage(entry.outbox_id, recipient, entry.subject or "", entry.body)
    return SmsMessage(entry.outbox_id, recipient, entry.body)


def _outcome(entry: OutboxEntry) -> ChannelOutcome:
    return ChannelOutcome(
        channel=entry.channel,
        status=entry.status,
        outbox_id=entry.outbox_id,
        provider_message_id=entry.provider_message_id,
        error=entry.error if entry.status == DeliveryStatus.FAILED else None,
    )


def _hint(recipient: str) -> str:
    """Enough of an address for an officer to recognise it, not enough to use it."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"[:64]
    return f"{recipient[:3]}***{recipient[-4:]}"
