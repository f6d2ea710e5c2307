"""The report workflows' names, Schedule ids and messages (anchoring, the monthly report)."""

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

ANCHOR_WORKFLOW = "AnchorChainWorkflow"
ANCHOR_SCHEDULE_ID = "keycase-audit-anchor"
MONTHLY_WORKFLOW = "MonthlyReportWorkflow"
MONTHLY_SCHEDULE_ID = "keycase-monthly-report"
REPORT_TIME_ZONE = "Asia/Seoul"


class ActivityName:
    """The report workflows' activities."""

    PUBLISH_ANCHOR = "publish_anchor"
    WRITE_MONTHLY_REPORT = "write_monthly_report"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AnchorInput(_Model):
    reason: str = Field(default="schedule", max_length=32)


class AnchorResult(_Model):
    chain_seq: int | None = None  # None: the chain is empty, nothing to anchor
    row_hash: str | None = None
    anchored_at: AwareDatetime | None = None


class MonthlyInput(_Model):
    """Which month: None means the month before the workflow's start, in KST."""

    month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")


class MonthlyActivityInput(_Model):
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")


class MonthlyResult(_Model):
    month: str
    files: list[str]  # names under the data folder's reports/
