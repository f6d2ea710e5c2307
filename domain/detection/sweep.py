"""The sweep's workflow and activity messages: counting, detecting and finishing one sweep."""

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.detection.policy import DetectorName

SWEEP_WORKFLOW = "DetectionSweepWorkflow"
SWEEP_SCHEDULE_ID = "keycase-detection-sweep"
MAX_LISTED_ALERTS = 50  # alert ids a detector's result names (the rest are counted)


class ActivityName:
    """The sweep's activities."""

    COUNT_ACCESS_LOG = "count_access_log"
    RUN_DETECTOR = "run_detector"
    FINISH_SWEEP = "finish_sweep"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SweepInput(_Model):
    """What a scheduled sweep is started with (nothing yet; fields to come get defaults)."""

    max_counts: int = Field(default=20, ge=1, le=1000)  # catch-up rounds in one sweep


class CountInput(_Model):
    round: int = 0  # for logs and history readers only


class CountResult(_Model):
    rows: int
    watermark_id: int
    caught_up: bool
    span_first: AwareDatetime | None = None  # windows still to look at
    span_last: AwareDatetime | None = None


class DetectInput(_Model):
    detector: DetectorName
    span_first: AwareDatetime
    span_last: AwareDatetime


class DetectResult(_Model):
    detector: DetectorName
    hits: int = 0
    opened: int = 0  # alerts that opened a case
    attached: int = 0  # joined a running case
    duplicates: int = 0  # raised before (a re-run, or a window seen by an earlier sweep)
    refused: int = 0  # intake said no: unknown, expired or re-registered keys
    alert_ids: list[str] = Field(default_factory=list)  # the first MAX_LISTED_ALERTS


class FinishInput(_Model):
    span_first: AwareDatetime | None = None
    span_last: AwareDatetime | None = None


class FinishResult(_Model):
    finished: bool
    pruned: int


class SweepResult(_Model):
    rows: int
    detectors: list[DetectResult] = Field(default_factory=list)
    pruned: int = 0
