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

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection
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
from domain.activity_io import ActivityName, ChannelOutcome, SendNoticeInput, SendNoticeResult
from domain.audit_events import notice_sent
from domain.exchanges import ResolvedSender, daxa_sender
from domain.masking import mask_contacts, mask_optional
from domain.notices import Channel, DeliveryStatus
from observability.metrics import NOTICES
from store.accounts import AccountRecord, get_account
from store.audit import append_facts
from store.outbox import OutboxEntry, OutboxSends
from store.port import Store

NOT_YET_SENT = "NoticeNotYetSent"
HEARTBEAT_EVERY = 1.0  # seconds; well inside the workflow's heartbeat timeout


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
    sender: ResolvedSender | None = None
    sender_name: str | None = None  # in the owner's language
    erased: bool = False  # the account's contacts were erased (store.accounts)


@dataclass(frozen=True)
class _Claim:
    entry: OutboxEntry
    begun: bool  # this call committed a new attempt, so it sends without further checks


@dataclass(frozen=True)
class _Settle:
    """A channel's answer, still to be written to its outbox row."""

    write: Callable[[OutboxSends], ChannelOutcome | _Retry]


_Step = ChannelOutcome | _Retry | _Settle


class NoticeActivities:
    """Sends notices through the e-mail and SMS ports, recording each in the outbox."""

    def __init__(
        self,
        store: Store,
        email: EmailPort,
        sms: SmsPort,
        renderer: NoticeRenderer,
        clock: Callable[[], datetime] | None = None,
        settle_window: timedelta = timedelta(minutes=10),
        max_attempts: int = 10,
        senders: Callable[[str], ResolvedSender | None] = daxa_sender,
    ) -> None:
        self._work = store  # shared with the worker's other activities
        self._email = email
        self._sms = sms
        self._renderer = renderer
        self._clock = clock or (lambda: datetime.now(UTC))
        self._settle_window = settle_window
        self._max_attempts = max_attempts
        self._senders = senders  # the exchange's sender identity (the policy file's)

    @activity.defn(name=ActivityName.SEND_NOTICE)
    async def send_notice(self, notice: SendNoticeInput) -> SendNoticeResult:
        """Send (or account for) the notice, heartbeating all along; raise to be retried.

        The heartbeat is how the server learns within seconds that a worker died mid-send,
        so the retry (which finds the attempt in doubt in the outbox) starts at once.
        """
        beating = asyncio.create_task(_keep_beating())
        try:
            return await self._send_notice(notice)
        finally:
            beating.cancel()

    async def _send_notice(self, notice: SendNoticeInput) -> SendNoticeResult:
        """Send (or account for) the notice on its channels; raise to be retried if needed.

        The common path is two store transactions for both channels together: one claims the
        rows and marks the attempts in doubt, then both providers are called at once, then
        one records their answers.
        """
        account = await self._work.read(lambda c: get_account(c, notice.account_id))
        sender = self._senders(notice.exchange)
        rendered = self._renderer.render(notice, account.locale if account else None, sender)
        plans = [p for p in self._plans(account, rendered, sender) if p.channel in notice.channels]
        now = self._clock()
        claims = await self._work.write(
            lambda c: self._claim_all(OutboxSends(c), notice, plans, now)
        )
        steps = list(
            await asyncio.gather(
                *(
                    self._run_channel(plan, claim, now)
                    for plan, claim in zip(plans, claims, strict=True)
                )
            )
        )
        await self._settle_all(notice, steps)
        outcomes = [step for step in steps if isinstance(step, ChannelOutcome)]
        retries = [step for step in steps if isinstance(step, _Retry)]
        for outcome in outcomes:
            NOTICES.labels(outcome.channel.value, outcome.status.value).inc()
        if retries:
            delays = [r.after for r in retries if r.after is not None]
            raise ApplicationError(
                "; ".join(r.reason for r in retries),
                type=NOT_YET_SENT,
                next_retry_delay=max(delays) if delays else None,
            )
        return SendNoticeResult(notice_id=notice.notice_id, outcomes=outcomes)

    def _plans(
        self, account: AccountRecord | None, rendered: RenderedNotice, sender: ResolvedSender | None
    ) -> list[_Plan]:
        erased = account is not None and account.erased_at is not None
        return [
            _Plan(
                Channel.EMAIL,
                self._email,
                account.email if account else None,
                rendered.subject,
                rendered.email_text,
                sender,
                sender.name(rendered.locale) if sender else None,
                erased,
            ),
            _Plan(
                Channel.SMS,
                self._sms,
                account.phone if account else None,
                None,
                rendered.sms_text,
                sender,
                erased=erased,
            ),
        ]

    def _claim_all(
        self, outbox: OutboxSends, notice: SendNoticeInput, plans: list[_Plan], now: datetime
    ) -> list[_Claim]:
        """Each channel's row, created if new; a first attempt is begun in the same commit."""
        claims = []
        for plan in plans:
            entry = outbox.claim(
                case_id=notice.case_id,
                notice_id=notice.notice_id,
                channel=plan.channel,
                notice=notice.notice.value,
                subject=plan.subject,
                body=plan.text,
                recipient_hint=None,
                now=now,
                failed_because=None if plan.recipient else _no_contact(plan),
            )
            fresh = entry.status == DeliveryStatus.PENDING and not entry.in_doubt
            if fresh and plan.recipient and entry.attempts < self._max_attempts:
                entry = outbox.begin_attempt(entry.outbox_id, _hint(plan.recipient), now)
                claims.append(_Claim(entry, begun=True))
            else:
                claims.append(_Claim(entry, begun=False))
        return claims

    async def _run_channel(self, plan: _Plan, claim: _Claim, now: datetime) -> _Step:
        entry = claim.entry
        if entry.status != DeliveryStatus.PENDING:
            return _outcome(entry)
        if not plan.recipient:
            return _failed(entry, _no_contact(plan), now)
        # The text stored with the first attempt is the one sent, so retries match it exactly.
        message = _message(plan, entry, plan.recipient)
        if claim.begun:
            return await self._send(entry, plan.port, message)
        if entry.in_doubt:
            resolved = await self._resolve_doubt(entry, plan.port, message, now)
            if resolved is not None:
                return resolved
        if entry.attempts >= self._max_attempts:
            gave_up = f"gave up after {entry.attempts} attempts: {entry.error}"
            return _failed(entry, gave_up, now)
        attempted_at = self._clock()

        def begin(connection: Connection) -> OutboxEntry:
            return OutboxSends(connection).begin_attempt(
                entry.outbox_id, _hint(message.to), attempted_at
            )

        return await self._send(await self._work.write(begin), plan.port, message)

    async def _resolve_doubt(
        self, entry: OutboxEntry, port: NoticePort[Any], message: Any, now: datetime
    ) -> _Step | None:
        """After an attempt with no known outcome: the outcome, a wait, or None to send again."""
        since = entry.last_attempt_at or now
        try:
            found = await port.find(message, since)
        except TransientSendError:
            found, conclusive = None, False
        else:
            conclusive = port.lookup_is_conclusive
        if found is not None:
            return _sent(entry, found.provider, found.message_id, self._clock())
        waited = now - since
        if not conclusive and waited < self._settle_window:
            return _Retry(
                f"{entry.channel.value}: waiting for evidence of an earlier attempt",
                self._settle_window - waited,
            )
        return None

    async def _send(self, entry: OutboxEntry, port: NoticePort[Any], message: Any) -> _Settle:
        """Call the provider for an attempt already committed as in doubt; the answer to record."""
        try:
            accepted = await port.send(message)
        except PermanentSendError as error:
            return _failed(entry, str(error), self._clock())
        except TransientSendError as error:
            detail, in_doubt, after = str(error), error.in_doubt, error.retry_after
            noted_at = self._clock()

            def note(outbox: OutboxSends) -> _Retry:
                outbox.note_error(entry.outbox_id, detail, in_doubt, noted_at)
                # The reason becomes the activity's failure, in the case's history.
                masked = mask_contacts(detail, entry.outbox_id)
                return _Retry(f"{entry.channel.value}: {masked}", after)

            return _Settle(note)
        return _sent(entry, accepted.provider, accepted.message_id, self._clock())

    async def _settle_all(self, notice: SendNoticeInput, steps: list[_Step]) -> None:
        """Record every channel's answer in one transaction; the steps become their outcomes.

        Once every channel has its outcome, the notice's audit fact goes into the same
        transaction: the log says a notice went out exactly when the outbox does.
        """
        pending = [n for n, step in enumerate(steps) if isinstance(step, _Settle)]
        if not pending and any(isinstance(step, _Retry) for step in steps):
            return
        now = self._clock()

        def settle(connection: Connection) -> list[ChannelOutcome | _Retry]:
            outbox = OutboxSends(connection)
            answers = [cast(_Settle, steps[n]).write(outbox) for n in pending]
            settled = dict(enumerate(steps)) | dict(zip(pending, answers, strict=True))
            outcomes = [step for step in settled.values() if isinstance(step, ChannelOutcome)]
            if len(outcomes) == len(steps):  # appended once: a retry finds its event id
                append_facts(connection, [notice_sent(notice, outcomes, now)], now)
            return answers

        for n, answer in zip(pending, await self._work.write(settle), strict=True):
            steps[n] = answer


async def _keep_beating() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_EVERY)


def _sent(entry: OutboxEntry, provider: str, message_id: str | None, now: datetime) -> _Settle:
    def write(outbox: OutboxSends) -> ChannelOutcome:
        return _outcome(outbox.mark_sent(entry.outbox_id, provider, message_id, now))

    return _Settle(write)


def _failed(entry: OutboxEntry, error: str, now: datetime) -> _Settle:
    def write(outbox: OutboxSends) -> ChannelOutcome:
        return _outcome(outbox.mark_failed(entry.outbox_id, error, now))

    return _Settle(write)


def _no_contact(plan: _Plan) -> str:
    if plan.erased:
        return f"no {plan.channel.value} contact: the account's contacts were erased"
    return f"no {plan.channel.value} contact on file"


def _message(plan: _Plan, entry: OutboxEntry, recipient: str) -> EmailMessage | SmsMessage:
    sender = plan.sender
    if plan.channel == Channel.EMAIL:
        return EmailMessage(
            entry.outbox_id,
            recipient,
            entry.subject or "",
            entry.body,
            from_email=sender.from_email if sender else None,
            from_name=plan.sender_name,
        )
    return SmsMessage(
        entry.outbox_id, recipient, entry.body, from_number=sender.sms_number if sender else None
    )


def _outcome(entry: OutboxEntry) -> ChannelOutcome:
    """What the case learns of a channel: the provider's text with its contacts masked."""
    error = entry.error if entry.status == DeliveryStatus.FAILED else None
    return ChannelOutcome(
        channel=entry.channel,
        status=entry.status,
        outbox_id=entry.outbox_id,
        provider_message_id=entry.provider_message_id,
        error=mask_optional(error, entry.outbox_id),
    )


def _hint(recipient: str) -> str:
    """Enough of an address for an officer to recognise it, not enough to use it."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"[:64]
    return f"{recipient[:3]}***{recipient[-4:]}"
