"""Reports: a case's pack (officer, auditor) built from the store alone."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.case_runs import parse_case_id, unknown_case
from api.deps import AnchorKey, AppSettings, Reader, StoreDep
from api.errors import ApiError
from api.scope import ScopedCaseId
from reports.case_report import UnknownCase, case_report
from reports.fonts import FontMissing
from reports.formats import ReportFormat

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
