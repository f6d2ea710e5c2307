"""A long case's pack from the store alone: every row in every format, nothing cut short."""

import html
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader
from typer.testing import CliRunner

from bench.report_data import KOREAN_WARNING, long_case, seed_cases
from cli.commands import app
from reports import fonts
from reports.case_report import UnknownCase, gather_case_pack, render_case
from reports.formats import ReportFormat
from store.anchors import stored_anchors
from store.port import Store

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(32))


def squeeze(text: str) -> str:
    text = re.sub(r"^keycase · .* \d+ / \d+$", "", text, flags=re.MULTILINE)
    return re.sub(r"\s+", "", text)


async def test_a_case_of_two_thousand_rows_is_rendered_whole(store: Store, tmp_path: Path) -> None:
    spec = long_case(2000)
    written = await seed_cases(store, [spec], NOW)
    pack = await gather_case_pack(store, KEY, tmp_path, spec.case_id, "ko", NOW)

    pdf = render_case(pack, ReportFormat.PDF).content
    page = html.unescape(render_case(pack, ReportFormat.HTML).content.decode())
    data = json.loads(render_case(pack, ReportFormat.JSON).content)

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    seqs = [int(n) for n in re.findall(r"^#(\d+)\b", text, flags=re.MULTILINE)]
    assert written == 2000 and len(pack.timeline) == 2000
    assert seqs == list(range(1, 2001))
    assert all(row.row_hash in text for row in pack.timeline[::97] + pack.timeline[-1:])
    assert squeeze(KOREAN_WARNING.format(key=spec.key_id)) in squeeze(text)
    assert pack.proof.head_seq == 2000 and str(pack.proof.head_hash) in text
    assert page.count("<td class=n>") == 2000
    assert len(data["timeline"]) == 2000 and len(data["decisions"]) == 1989
    assert [(n["channel"], n["status"]) for n in data["notices"]] == [
        ("이메일", "전달됨"),
        ("문자(SMS)", "발송"),
    ]
    assert [r["status"] for r in data["notices"][0]["receipts"]] == ["전달됨"]
    assert data["key_expired_at"] == "2026-11-06 10:00:00 KST"
    assert [a.chain_seq for a in await store.read(stored_anchors)] == [2000]


async def test_an_unknown_case_has_no_pack(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UnknownCase):
        await gather_case_pack(store, KEY, tmp_path, "key-none.0001", "ko", NOW)


def test_cli_writes_the_pack_and_names_the_missing_font_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from store.engine import open_store
    from tests.store.databases import sqlite_database

    url = sqlite_database(tmp_path)

    async def seed() -> None:
        store = open_store(url)
        await seed_cases(store, [long_case(20)], NOW)
        await store.close()

    asyncio.run(seed())
    monkeypatch.setenv("KEYCASE_DATABASE_URL", url)
    monkeypatch.setenv("KEYCASE_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    args = ["report", "case", "key-long.0001", "--out", str(tmp_path / "out")]

    written = runner.invoke(app, [*args, "--format", "html", "--lang", "en"])
    monkeypatch.setattr(fonts, "SEARCH", ())
    monkeypatch.delenv("KEYCASE_REPORT_FONT_DIR", raising=False)
    no_font = runner.invoke(app, args)
    unknown = runner.invoke(app, ["report", "case", "key-x.1", "--format", "json"])

    assert written.exit_code == 0, written.output
    assert (
        "Full audit timeline (20)" in (tmp_path / "out" / "case-key-long.0001-en.html").read_text()
    )
    assert no_font.exit_code == 2
    assert "fonts-nanum" in no_font.output and "Traceback" not in no_font.output
    assert unknown.exit_code == 1 and "no audit rows" in unknown.output
