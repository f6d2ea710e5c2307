"""Notices sent to a key's owner, and their delivery."""

from enum import StrEnum


class NoticeKind(StrEnum):
    WARNING = "warning"
    KYC_REMINDER = "kyc_reminder"
    EXPIRY = "expiry"
    RESTORED = "restored"
    APPEAL_UPHELD = "appeal_upheld"  # sent by an AppealWorkflow, on the expired case
    APPEAL_REJECTED = "appeal_rejected"


class ExpiryReason(StrEnum):
    """Why a key was expired, as its owner is told."""

    DEADLINE_PASSED = "deadline_passed"  # no re-verification by the KYC deadline
    KYC_FAILED = "kyc_failed"
    OFFICER = "officer"  # an officer's expire-now, with the officer's reason
    ALERT_IN_PROBATION = "alert_in_probation"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class DeliveryStatus(StrEnum):
    """Outbox status of one notice on one channel, in the order it can only advance."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
