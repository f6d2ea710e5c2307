"""The case pack over HTTP: a real case's every fact in the PDF, HTML and JSON, in two languages."""

import html
import io
import re

import httpx
import pytest
from fastapi import FastAPI
from pypdf import PdfReader

from api.auth import Role
from store.outbox import NotificationOutbox
from tests.api.conftest import auth, upbit_only
from tests.api.support import open_case, wait_for_stage, wait_until_ended

pytestmark = pytest.mark.usefixtures("worker")


def keep(content: bytes) -> None:
    """With KEEP_PDF=path, keep the pack to look at (`pdftoppm -png path page`)."""
    import os
    import pathlib

    if os.environ.get("KEEP_PDF"):
        pathlib.Path(os.environ["KEEP_PDF"]).write_bytes(content)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def squeeze(text: str) -> str:
    """Without whitespace or page footers: where a renderer wraps is not part of what it says."""
    text = re.sub(r"^keycase · .* \d+ / \d+$", "", text, flags=re.MULTILINE)
    return re.sub(r"\s+", "", text)


async def _expired_case(http: httpx.AsyncClient) -> tuple[str, str]:
    key, case_id = await open_case(http, "high")
    await wait_for_stage(http, case_id, "AWAITING_KYC")
    note = {"reason": "owner phoned back", "text": "will re-verify today"}
    response = await http.post(
        f"/v1/cases/{case_id}/actions/note", json=note, headers=auth(Role.OFFICER)
    )
    assert response.status_code == 200, response.text
    kyc = {"passed": False, "reference": "kyc-ref-77"}
    response = await http.post(f"/v1/cases/{case_id}/kyc", json=kyc, headers=auth(Role.KYC))
    assert response.status_code in (200, 202), response.text
    await wait_for_stage(http, case_id, "EXPIRED")
    await wait_until_ended(http, key.key_id, case_id)
    return key.key_id, case_id


async def test_case_pack_pdf_holds_every_audit_row_the_korean_notice_and_the_chain_head(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    _, case_id = await _expired_case(http)
    rows = (await http.get(f"/v1/cases/{case_id}/audit", headers=auth(Role.AUDITOR))).json()
    notices = await app.state.store.read(lambda c: NotificationOutbox(c).for_case(case_id))

    response = await http.get(f"/v1/cases/{case_id}/report", headers=auth(Role.AUDITOR))
    as_json = await http.get(
        f"/v1/cases/{case_id}/report", params={"format": "json"}, headers=auth(Role.OFFICER)
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    keep(response.content)
    text = pdf_text(response.content)
    flat = squeeze(text)
    assert case_id in text
    assert "사건보고서" in flat
    assert len(rows) >= 8
    for row in rows:
        assert f"#{row['seq']}" in text
        assert row["row_hash"] in text
    korean = [n for n in notices if re.search("[가-힣]", n.body)]
    assert korean, "the owner's locale is ko: the notices are Korean"
    for notice in korean:
        assert squeeze(notice.body) in flat
    pack = as_json.json()
    head = pack["proof"]["head_hash"]
    assert head in text
    assert pack["proof"]["ok"] is True
    assert [r["seq"] for r in pack["timeline"]] == [r["seq"] for r in rows]
    assert [d["reason"] for d in pack["decisions"]] == ["owner phoned back"]
    assert [(k["passed"], k["reference"]) for k in pack["kyc"]] == [(False, "kyc-ref-77")]
    assert any("EXPIRED" in c["change"] for c in pack["key_changes"])
    assert any(c["read_back"] for c in pack["key_changes"])


async def test_case_pack_html_in_english_holds_the_same_facts(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    _, case_id = await _expired_case(http)
    rows = (await http.get(f"/v1/cases/{case_id}/audit", headers=auth(Role.OFFICER))).json()
    notices = await app.state.store.read(lambda c: NotificationOutbox(c).for_case(case_id))

    response = await http.get(
        f"/v1/cases/{case_id}/report",
        params={"format": "html", "lang": "en"},
        headers=auth(Role.OFFICER),
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = html.unescape(response.text)
    assert "<script" not in page and "http" not in page.split("<body>", 1)[1]
    assert "Case report" in page and case_id in page
    assert "Stage → expired" in page
    for row in rows:
        assert row["row_hash"] in page
    for notice in notices:
        assert notice.body in page


async def test_case_pack_is_refused_to_other_roles_scopes_and_unknown_cases(
    http: httpx.AsyncClient,
) -> None:
    key, case_id = await open_case(http, "low")
    url = f"/v1/cases/{case_id}/report"
    for role in (Role.GATEWAY, Role.ADMIN, Role.SURVEILLANCE, Role.KYC):
        assert (await http.get(url, headers=auth(role))).status_code == 403
    other = await http.get(url.replace(key.key_id, "key-nobody"), headers=auth(Role.OFFICER))
    bad_format = await http.get(url, params={"format": "csv"}, headers=auth(Role.OFFICER))
    assert (other.status_code, other.json()["error"]["code"]) == (404, "unknown_case")
    assert bad_format.status_code == 422
    assert (await http.get(url, headers=upbit_only(Role.OFFICER))).status_code == 200
