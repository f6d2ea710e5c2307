"""Bodies of the gateways' change feed and of the decisions they report back."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

from api.schemas import Body
from domain.gateway import GatewayReason
from domain.keys import KeyStatus, Permission

MAX_REPORTED = 5000  # decisions in one report


def _in_utc(moment: datetime) -> datetime:
    # An offset at the calendar's edge (year 1 at +01:00) has no UTC time: a 422, not a 500.
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time has no UTC equivalent") from None


UtcTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class KeyViewOut(Body):
    """A key as the gateway rule reads it (domain.gateway.KeyView)."""

    key_id: str
    account_id: str
    exchange: str
    status: KeyStatus
    permissions: list[Permission]
    allowed_ips: list[str]
    expires_at: AwareDatetime | None


class KeyChangeOut(Body):
    """One change in the feed: its place, when it was committed, the key after it."""

    seq: int
    changed_at: AwareDatetime
    key: KeyViewOut


class KeyChangesOut(Body):
    """A page of the feed; ask again with `since=cursor`.

    `reset` says the cursor asked for is past the feed's end (the store was replaced): the
    page starts from the beginning, and the replica drops what it holds first.
    `more` says the next page is ready now.
    """

    changes: list[KeyChangeOut]
    cursor: int
    more: bool
    reset: bool = False


class ReportedDecision(Body):
    """One decision a gateway client made from its replica."""

    key_id: Annotated[str, Field(min_length=1, max_length=100)]
    ip: Annotated[str, Field(min_length=1, max_length=64)]
    permission: Permission
    allowed: bool
    reason: GatewayReason
    decided_at: UtcTime


class AccessReportIn(Body):
    """A batch of decisions; `batch_id` makes a resent batch count once."""

    batch_id: Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    decisions: Annotated[list[ReportedDecision], Field(min_length=1, max_length=MAX_REPORTED)]


class AccessReportOut(Body):
    """How many decisions were recorded (0 for a batch recorded before)."""

    recorded: int
