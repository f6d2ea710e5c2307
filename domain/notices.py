"""Notices sent to a key's owner, and their delivery."""

from enum import StrEnum


class NoticeKind(StrEnum):
    WARNING = "warning"
    KYC_REMINDER = "kyc_reminder"
    EXPIRY = "expiry"
    RESTORED = "restored"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class DeliveryStatus(StrEnum):
    """Outbox status of one notice on one channel, in the order it can only advance."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
