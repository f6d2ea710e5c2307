"""Shared values and helpers of the notification tests."""

from datetime import UTC, datetime

from domain.activity_io import SendNoticeInput
from domain.alerts import AlertKind, Severity
from domain.notices import NoticeKind
from store.accounts import upsert_account
from store.port import Store

PUBLIC_BASE_URL = "https://keycase.example.com"
TWILIO_CALLBACK = f"{PUBLIC_BASE_URL}/v1/webhooks/twilio"
FROM_NUMBER = "+15005550006"
OWNER_EMAIL = "owner@example.com"
OWNER_PHONE = "+821012345678"


async def add_owner(store: Store, account_id: str = "acct-1", locale: str = "ko") -> None:
    """Register the key owner's contacts, as the admin API would."""
    await store.write(
        lambda c: upsert_account(
            c, account_id=account_id, email=OWNER_EMAIL, phone=OWNER_PHONE, locale=locale
        )
    )


def warning(**changes: object) -> SendNoticeInput:
    """A warning notice for key K-1 (account acct-1, Upbit); `changes` override any field."""
    case_id = str(changes.get("case_id", "K-1.run-1"))
    fields: dict[str, object] = {
        "notice_id": "warning",
        "case_id": case_id,
        "key_id": case_id.split(".")[0],
        "account_id": "acct-1",
        "exchange": "upbit",
        "notice": NoticeKind.WARNING,
        "severity": Severity.HIGH,
        "detected": [AlertKind.KEY_SHARING],
        "deadline": datetime(2026, 11, 28, 6, 0, tzinfo=UTC),
        "occurred_at": datetime(2026, 11, 25, 6, 0, tzinfo=UTC),
    }
    return SendNoticeInput.model_validate(fields | changes)
