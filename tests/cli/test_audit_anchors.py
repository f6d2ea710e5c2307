"""`keycase audit anchor | anchors | verify --anchors` against the store, no API running."""

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.commands import app
from store.audit import append_facts
from store.engine import open_store
from tests.store import tamper
from tests.store.databases import sqlite_database
from tests.store.factories import T0, fact

runner = CliRunner()


async def _seed(url: str, *event_ids: str) -> None:
    store = open_store(url)
    await store.write(lambda c: append_facts(c, [fact(e) for e in event_ids], T0))
    await store.close()


async def _delete_from(url: str, seq: int) -> None:
    store = open_store(url)
    await tamper.execute(store, ("DELETE FROM audit_log WHERE seq >= :s", {"s": seq}))
    await store.close()


def test_an_exported_anchors_file_finds_a_cut_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sqlite_database(tmp_path)
    monkeypatch.setenv("KEYCASE_DATABASE_URL", url)
    monkeypatch.setenv("KEYCASE_DATA_DIR", str(tmp_path / "data"))
    exported = tmp_path / "kept-elsewhere.jsonl"
    asyncio.run(_seed(url, "e1", "e2", "e3"))

    anchored = runner.invoke(app, ["audit", "anchor"])
    export = runner.invoke(app, ["audit", "anchors", "--out", str(exported)])
    clean = runner.invoke(app, ["audit", "verify", "--anchors", str(exported)])
    asyncio.run(_delete_from(url, 3))
    cut = runner.invoke(app, ["audit", "verify", "--anchors", str(exported)])

    assert anchored.exit_code == 0 and "anchored row 3" in anchored.output
    assert export.exit_code == 0 and exported.read_text().count("\n") == 1
    assert (tmp_path / "data" / "audit_anchors.jsonl").read_text() == exported.read_text()
    assert clean.exit_code == 0, clean.output
    assert "anchors match: 1 checked" in clean.output
    assert cut.exit_code == 1
    assert "audit chain verified: 2 rows" in cut.output
    assert "anchor at row 3" in cut.output and "missing_tail" in cut.output


def test_an_unreadable_anchors_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEYCASE_DATABASE_URL", sqlite_database(tmp_path))
    monkeypatch.setenv("KEYCASE_DATA_DIR", str(tmp_path / "data"))
    bad = tmp_path / "anchors.jsonl"
    bad.write_text('{"chain_seq": "x"}\n')

    result = runner.invoke(app, ["audit", "verify", "--anchors", str(bad)])

    assert result.exit_code == 2
    assert "anchors file line 1" in result.output
