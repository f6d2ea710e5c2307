"""Chooses the real adapters when credentials are set, the console ones otherwise."""

from dataclasses import dataclass
from typing import TextIO

from activities.notifications.console import ConsoleEmail, ConsoleSms
from activities.notifications.ports import EmailPort, SmsPort
from activities.notifications.sendgrid_email import SendGridEmail
from activities.notifications.twilio_sms import TwilioSms
from config.settings import Settings

# Must match the route in api/webhooks.py: Twilio signs the exact URL it calls back.
TWILIO_STATUS_PATH = "/v1/webhooks/twilio"


@dataclass(frozen=True)
class Channels:
    """The two ports the worker hands to `NoticeActivities`."""

    email: EmailPort
    sms: SmsPort


def build_channels(settings: Settings, stream: TextIO | None = None) -> Channels:
    """SendGrid and Twilio when configured; each missing one is replaced by the console."""
    email: EmailPort = ConsoleEmail(stream)
    if settings.sendgrid_api_key is not None:
        email = SendGridEmail(
            settings.sendgrid_api_key.get_secret_value(),
            settings.sendgrid_from_email,
            host=settings.sendgrid_host,
        )
    sms: SmsPort = ConsoleSms(stream)
    if (
        settings.twilio_account_sid
        and settings.twilio_auth_token is not None
        and settings.twilio_from_number
    ):
        sms = TwilioSms(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            settings.twilio_from_number,
            status_callback_url=settings.public_base_url.rstrip("/") + TWILIO_STATUS_PATH,
            base_url=settings.twilio_base_url,
        )
    return Channels(email=email, sms=sms)
