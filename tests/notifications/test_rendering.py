"""Each notice, in Korean and English, reads exactly as the expected files in `expected/`."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from activities.notifications.renderer import NoticeRenderer, RenderedNotice
from domain.alerts import AlertKind, Severity
from domain.notices import ExpiryReason, NoticeKind
from tests.notifications.support import warning

EXPECTED = Path(__file__).parent / "expected"
DEADLINE = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 15:00 in Seoul
OCCURRED = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)  # 09:00 in Seoul, six hours before


def _render(kind: NoticeKind, locale: str, **changes: object) -> RenderedNotice:
    fields: dict[str, object] = {
        "notice": kind,
        # Repeated kinds are described once each.
        "detected": [AlertKind.KEY_SHARING, AlertKind.IP_ANOMALY, AlertKind.KEY_SHARING],
        "deadline": DEADLINE,
        "occurred_at": OCCURRED,
    }
    notice = warning(**(fields | changes))
    return NoticeRenderer().render(notice, locale)


def _as_file(rendered: RenderedNotice) -> tuple[str, str]:
    return f"{rendered.subject}\n\n{rendered.email_text}", rendered.sms_text + "\n"


@pytest.mark.parametrize("locale", ["ko", "en"])
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_notice_text_matches_the_expected_example(kind: NoticeKind, locale: str) -> None:
    email, sms = _as_file(_render(kind, locale))
    assert email == (EXPECTED / locale / f"{kind.value}.email.txt").read_text()
    assert sms == (EXPECTED / locale / f"{kind.value}.sms.txt").read_text()


@pytest.mark.parametrize("locale", ["ko", "en"])
@pytest.mark.parametrize("reason", list(ExpiryReason))
def test_expiry_notice_states_its_real_reason_and_date(reason: ExpiryReason, locale: str) -> None:
    """Deadline passed (with the deadline), re-verification failed, an officer's decision
    (with the officer's reason), an alert during probation (with its end)."""
    officer = "confirmed lending to a trading bot" if reason is ExpiryReason.OFFICER else None
    rendered = _render(NoticeKind.EXPIRY, locale, expiry_reason=reason, officer_reason=officer)

    email, sms = _as_file(rendered)

    assert email == (EXPECTED / locale / f"expiry.{reason.value}.email.txt").read_text()
    assert sms == (EXPECTED / locale / f"expiry.{reason.value}.sms.txt").read_text()


def test_deadline_is_written_out_in_korea_standard_time() -> None:
    ko, en = _render(NoticeKind.WARNING, "ko"), _render(NoticeKind.WARNING, "en")
    assert "기한: 2026년 11월 28일 (토) 15:00 KST" in ko.email_text
    assert "Deadline: Saturday, 28 November 2026, 15:00 KST" in en.email_text


def test_an_evening_in_utc_is_the_next_morning_in_seoul() -> None:
    late = datetime(2026, 12, 31, 20, 30, tzinfo=UTC)
    assert (
        "2027년 1월 1일 (금) 05:30 KST" in _render(NoticeKind.WARNING, "ko", deadline=late).subject
    )
    assert (
        "Friday, 1 January 2027, 05:30 KST"
        in _render(NoticeKind.WARNING, "en", deadline=late).subject
    )


def test_reminder_counts_days_when_the_deadline_is_far() -> None:
    early = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert (
        "약 3일 남았습니다" in _render(NoticeKind.KYC_REMINDER, "ko", occurred_at=early).email_text
    )
    assert (
        "about 3 days left" in _render(NoticeKind.KYC_REMINDER, "en", occurred_at=early).email_text
    )


def test_severity_never_shows_in_the_text() -> None:
    low = _render(NoticeKind.WARNING, "en", severity=Severity.LOW)
    critical = _render(NoticeKind.WARNING, "en", severity=Severity.CRITICAL)
    assert low == critical
    assert "critical" not in critical.email_text.lower()


def test_unknown_locale_and_missing_account_fall_back_to_korean() -> None:
    notice = warning(deadline=DEADLINE)
    assert NoticeRenderer().render(notice, "fr").locale == "ko"
    assert NoticeRenderer().render(notice, None) == NoticeRenderer().render(notice, "ko")


def test_an_exchange_without_a_display_name_is_shown_by_its_id() -> None:
    rendered = _render(NoticeKind.RESTORED, "en", exchange="newex")
    assert rendered.subject == "[newex] Your API key works again"


def test_templates_are_read_from_the_folder_given(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "warning.email.j2").write_text("Hello {{ key_id }}\n\nBody\n")
    (tmp_path / "en" / "warning.sms.j2").write_text("SMS {{ key_id }}\n")
    rendered = NoticeRenderer(tmp_path).render(warning(), "en")
    assert (rendered.subject, rendered.email_text, rendered.sms_text) == (
        "Hello K-1",
        "Body\n",
        "SMS K-1",
    )


@pytest.mark.parametrize("locale", ["ko", "en"])
@pytest.mark.parametrize("kind", [NoticeKind.APPEAL_UPHELD, NoticeKind.APPEAL_REJECTED])
def test_appeal_decision_notices_quote_the_officers_reason(kind: NoticeKind, locale: str) -> None:
    reason = "the second address is the owner's own server"
    rendered = _render(kind, locale, officer_reason=reason)

    assert reason in rendered.email_text
    assert reason in rendered.sms_text or kind is NoticeKind.APPEAL_UPHELD
