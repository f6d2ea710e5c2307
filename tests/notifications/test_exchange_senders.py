"""Each exchange's sender identity: its name in both languages, its From address and number."""

from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.notifications import NoticeActivities, NoticeRenderer
from activities.notifications.sendgrid_email import SendGridEmail
from activities.notifications.twilio_sms import TwilioSms
from domain.notices import NoticeKind
from domain.policy import LadderPolicy, parse_policy
from store.port import Store
from tests.fakes import sendgrid_fake as sg
from tests.fakes import twilio_fake as tw
from tests.notifications.support import FROM_NUMBER, add_owner, warning

SHIPPED = (Path(__file__).parents[2] / "config" / "policy.toml").read_text(encoding="utf-8")
SENDERS = """
[exchange.bithumb.sender]
from_email = "aml@bithumb.example"
sms_number = "+821055550111"

[exchange.hanbit.sender]
name_ko = "한빛거래소"
name_en = "Hanbit Exchange"
from_email = "notice@hanbit.example"
"""


def _policy() -> LadderPolicy:
    return parse_policy(SHIPPED + SENDERS, "senders.toml")


@pytest.mark.parametrize(
    ("exchange", "ko", "en"),
    [
        ("upbit", "업비트", "Upbit"),
        ("gopax", "고팍스", "GOPAX"),
        ("hanbit", "한빛거래소", "Hanbit Exchange"),
    ],
)
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_notice_names_its_exchange_in_the_owners_language(
    exchange: str, ko: str, en: str, kind: NoticeKind
) -> None:
    notice = warning(exchange=exchange, notice=kind)
    sender = _policy().sender_for(exchange)
    korean = NoticeRenderer().render(notice, "ko", sender)
    english = NoticeRenderer().render(notice, "en", sender)

    assert korean.subject.startswith(f"[{ko}]") and korean.sms_text.startswith(f"[{ko}]")
    assert english.subject.startswith(f"[{en}]") and english.sms_text.startswith(f"[{en}]")
    assert en not in korean.email_text or ko == en
    assert ko not in english.email_text


@pytest.mark.parametrize(
    ("exchange", "locale", "from_email", "from_name", "from_number"),
    [
        ("bithumb", "ko", "aml@bithumb.example", "빗썸", "+821055550111"),
        ("hanbit", "en", "notice@hanbit.example", "Hanbit Exchange", FROM_NUMBER),
        ("korbit", "en", "no-reply@keycase.test", "Korbit", FROM_NUMBER),  # no entry: defaults
    ],
)
async def test_providers_get_the_exchanges_from_address_and_number(
    store: Store,
    sendgrid: sg.FakeSendGrid,
    twilio: tw.FakeTwilio,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
    exchange: str,
    locale: str,
    from_email: str,
    from_name: str,
    from_number: str,
) -> None:
    await add_owner(store, locale=locale)
    activities = NoticeActivities(
        store, email_port, sms_port, NoticeRenderer(), senders=_policy().sender_for
    )

    await ActivityEnvironment().run(activities.send_notice, warning(exchange=exchange))

    [mail], [sms] = sendgrid.accepted, twilio.accepted
    assert (mail.from_email, mail.from_name) == (from_email, from_name)
    assert mail.subject.startswith(f"[{from_name}]")
    assert sms.from_ == from_number
