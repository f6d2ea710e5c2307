"""The stages of a key case (see DESIGN.md, "The case workflow")."""

from enum import StrEnum


class CaseStage(StrEnum):
    MONITORING = "MONITORING"
    WARNED = "WARNED"
    AWAITING_KYC = "AWAITING_KYC"
    PROBATION = "PROBATION"
    RESTORED = "RESTORED"
    CLEARED = "CLEARED"
    DISMISSED = "DISMISSED"
    EXPIRED = "EXPIRED"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STAGES


OPEN_STAGES = frozenset(
    {CaseStage.MONITORING, CaseStage.WARNED, CaseStage.AWAITING_KYC, CaseStage.PROBATION}
)
