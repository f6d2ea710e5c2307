"""The stages of a key case (see DESIGN.md, "The case workflow", and the README).

```
MONITORING ─threshold / confirm─▶ WARNED ─a provider accepted─▶ AWAITING_KYC ─passed─▶ PROBATION
  │                                 │                              │                     │
  └─quiet window─▶ CLEARED          │          EXPIRED ◀─failed / deadline   alert─▶ EXPIRED
                                    │                                 window ends─▶ RESTORED
                                    └─no channel reached the owner─▶ OWNER_UNREACHABLE
any open stage ─officer dismiss─▶ DISMISSED;  ─officer expire-now─▶ EXPIRED
```

AWAITING_KYC can also become OWNER_UNREACHABLE: a bounce or undelivered report on the
channel that reached the owner, with its retry through the other channel failing too.
"""

from enum import StrEnum


class CaseStage(StrEnum):
    MONITORING = "MONITORING"
    WARNED = "WARNED"
    AWAITING_KYC = "AWAITING_KYC"
    OWNER_UNREACHABLE = "OWNER_UNREACHABLE"  # no channel reached the owner: an officer decides
    PROBATION = "PROBATION"
    RESTORED = "RESTORED"
    CLEARED = "CLEARED"
    DISMISSED = "DISMISSED"
    EXPIRED = "EXPIRED"
    # Shown by an AppealWorkflow on an expired case (the case itself stays EXPIRED).
    APPEAL_REVIEW = "APPEAL_REVIEW"
    APPEAL_UPHELD = "APPEAL_UPHELD"
    APPEAL_REJECTED = "APPEAL_REJECTED"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STAGES

    @property
    def is_appeal(self) -> bool:
        return self in APPEAL_STAGES


OPEN_STAGES = frozenset(
    {
        CaseStage.MONITORING,
        CaseStage.WARNED,
        CaseStage.AWAITING_KYC,
        CaseStage.OWNER_UNREACHABLE,
        CaseStage.PROBATION,
    }
)

APPEAL_STAGES = frozenset(
    {CaseStage.APPEAL_REVIEW, CaseStage.APPEAL_UPHELD, CaseStage.APPEAL_REJECTED}
)
