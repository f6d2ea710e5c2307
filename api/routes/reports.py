"""Reports: a case's pack (officer, auditor) built from the store alone, and the monthly
reports the Schedule wrote into the data folder (auditor)."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel

from api.auth import Principal
from api.case_runs import parse_case_id, unknown_case
from api.deps import AnchorKey, AppSettings, Auditor, Reader, StoreDep
from api.errors import ApiError
from api.scope import ScopedCaseId
from reports.case_report import UnknownCase, case_report
from reports.fonts import FontMissing
from reports.formats import MEDIA_TYPES, ReportFormat
from reports.monthly_report import REPORT_NAME, REPORTS_DIR

router = APIRouter(tags=["reports"])

CaseFormat = Literal["pdf", "html", "json"]
Lang = Literal["ko", "en"]


def download(content: bytes, media_type: str, filename: str) -> Response:
    """The bytes as an attachment named `filename`."""
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def pdf_unavailable(error: FontMissing) -> ApiError:
    return ApiError(503, "unavailable", str(error))


@router.get(
    "/v1/cases/{case_id}/report",
    response_class=Response,
    responses={200: {"content": {m: {} for m in ("application/pdf", "text/html")}}},
)
async def case_pack(
    case_id: ScopedCaseId,
    caller: Reader,
    store: StoreDep,
    key: AnchorKey,
    settings: AppSettings,
    format: Annotated[CaseFormat, Query(description="pdf, html or json")] = "pdf",
    lang: Annotated[Lang, Query(description="ko (default) or en")] = "ko",
) -> Response:
    """The case pack: timeline, alerts, notices as received, decisions, KYC, key changes,
    and the chain proof (the head is anchored with the export). Works after Temporal's
    retention has deleted the run: it reads only the store."""
    parse_case_id(case_id)
    try:
        report = await case_report(
            store, key, settings.data_dir, case_id, lang, ReportFormat(format), datetime.now(UTC)
        )
    except UnknownCase:
        raise unknown_case(case_id) from None
    except FontMissing as error:
        raise pdf_unavailable(error) from None
    return download(report.content, report.media_type, report.filename)


class ReportFile(BaseModel):
    """One monthly report file; download it from `url`."""

    name: str
    month: str
    exchange: str | None  # None: every exchange
    lang: str
    format: str
    bytes: int
    written_at: AwareDatetime
    url: str


def _visible(caller: Principal, exchange: str | None) -> bool:
    """A scoped auditor sees its exchanges' reports, not the all-exchange ones."""
    if caller.exchanges is None:
        return True
    return exchange is not None and exchange in caller.exchanges


def _listing(folder: Path, caller: Principal) -> list[ReportFile]:
    found: list[ReportFile] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir(), reverse=True):
        match = REPORT_NAME.match(path.name)
        if match is None or not path.is_file() or not _visible(caller, match["exchange"]):
            continue
        stat = path.stat()
        found.append(
            ReportFile(
                name=path.name,
                month=match["month"],
                exchange=match["exchange"],
                lang=match["lang"],
                format=match["format"],
                bytes=stat.st_size,
                written_at=datetime.fromtimestamp(stat.st_mtime, UTC),
                url=f"/v1/reports/{path.name}",
            )
        )
    return found


@router.get("/v1/reports", response_model=list[ReportFile])
async def list_reports(caller: Auditor, settings: AppSettings) -> list[ReportFile]:
    """The monthly reports written so far, newest month first."""
    return await asyncio.to_thread(_listing, settings.data_dir / REPORTS_DIR, caller)


@router.get(
    "/v1/reports/{name}",
    response_class=Response,
    responses={200: {"content": {m: {} for m in ("application/pdf", "text/csv")}}},
)
async def get_report(
    name: Annotated[str, PathParam(max_length=100, description="a name from GET /v1/reports")],
    caller: Auditor,
    settings: AppSettings,
) -> Response:
    """One monthly report file, as written."""
    match = REPORT_NAME.match(name)
    missing = ApiError(404, "unknown_report", f"no report {name!r}")
    if match is None or not _visible(caller, match["exchange"]):
        raise missing
    path = settings.data_dir / REPORTS_DIR / name
    try:
        content = await asyncio.to_thread(path.read_bytes)
    except FileNotFoundError:
        raise missing from None
    return download(content, MEDIA_TYPES[ReportFormat(match["format"])], name)
