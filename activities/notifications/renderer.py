"""Renders notices from the template files in `templates/<locale>/`, in Korea Standard Time."""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from domain.activity_io import SendNoticeInput
from domain.exchanges import ResolvedSender, daxa_sender

KST = ZoneInfo("Asia/Seoul")
LOCALES = ("ko", "en")
DEFAULT_LOCALE = "ko"
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class RenderedNotice:
    """One notice in one language: an e-mail (subject and text) and an SMS text."""

    locale: str
    subject: str
    email_text: str
    sms_text: str


class NoticeRenderer:
    """Fills `<kind>.email.j2` (first line is the subject) and `<kind>.sms.j2` for a locale."""

    def __init__(self, templates: Path = TEMPLATES) -> None:
        self._env = Environment(
            loader=FileSystemLoader(templates),
            undefined=StrictUndefined,
            autoescape=False,  # plain text for e-mail bodies and SMS, never HTML
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def render(
        self, notice: SendNoticeInput, locale: str | None, sender: ResolvedSender | None = None
    ) -> RenderedNotice:
        """The notice's texts, signed with the exchange's name; unknown locales get Korean."""
        lang = locale if locale in LOCALES else DEFAULT_LOCALE
        context = _context(notice)
        sender = sender or daxa_sender(notice.exchange)
        # An exchange the policy no longer knows (a case older than the change) shows its id.
        context["sender_name"] = sender.name(lang) if sender else notice.exchange
        email = self._env.get_template(f"{lang}/{notice.notice.value}.email.j2").render(context)
        subject, _, body = email.strip().partition("\n")
        sms = self._env.get_template(f"{lang}/{notice.notice.value}.sms.j2").render(context)
        return RenderedNotice(
            locale=lang,
            subject=subject.strip(),
            email_text=body.strip() + "\n",
            sms_text=" ".join(sms.split()),
        )


def _context(notice: SendNoticeInput) -> dict[str, object]:
    detected = list(dict.fromkeys(kind.value for kind in notice.detected))  # once each, in order
    deadline = notice.deadline.astimezone(KST) if notice.deadline else None
    hours_left = _hours_between(notice.occurred_at, notice.deadline) if notice.deadline else None
    return {
        "case_id": notice.case_id,
        "key_id": notice.key_id,
        "exchange": notice.exchange,
        "detected": detected,
        "deadline": deadline,
        "occurred": notice.occurred_at.astimezone(KST),
        "hours_left": hours_left,
        "reason": notice.expiry_reason.value if notice.expiry_reason else None,
        "officer_reason": notice.officer_reason,
    }


def _hours_between(start: datetime, end: datetime) -> int:
    # Rounded to the nearest hour, never below one: "about 6 hours left".
    return max(1, round((end - start).total_seconds() / 3600))
