"""Report formats and what each is served as."""

from dataclasses import dataclass
from enum import StrEnum


class ReportFormat(StrEnum):
    PDF = "pdf"
    HTML = "html"
    JSON = "json"
    CSV = "csv"  # the monthly report's figures only


MEDIA_TYPES = {
    ReportFormat.PDF: "application/pdf",
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.JSON: "application/json",
    ReportFormat.CSV: "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class RenderedReport:
    """A finished report: its bytes and the file name it is offered as."""

    content: bytes
    format: ReportFormat
    filename: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]
