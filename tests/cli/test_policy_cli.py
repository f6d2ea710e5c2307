"""`keycase policy check` and `dry-run`: the worker's own errors, a replay that writes nothing."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from cli import policy as policy_cli
from cli.commands import app
from store.audit import append_facts
from store.engine import open_store
from store.migrate import sync_url
from store.models import AuditEntry
from store.outcomes import OutcomeRow
from tests.store.databases import sqlite_database
from tests.store.seeded_cases import LAXER_TEXT, STRICTER_TEXT, forty_days_ago, seeded_facts
from worker.main import main as worker_main

runner = CliRunner()


def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seeded: bool) -> str:
    url = sqlite_database(tmp_path)

    async def load() -> None:
        store = open_store(url)
        t0 = forty_days_ago()
        recorded = seeded_facts(t0)
        await store.write(lambda c: append_facts(c, recorded, t0))
        await store.close()

    if seeded:
        asyncio.run(load())
    for name in ("KEYCASE_POLICY_FILE", "KEYCASE_API_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KEYCASE_DATABASE_URL", url)
    return url


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _rows(url: str) -> tuple[int, int]:
    engine = create_engine(sync_url(url))
    with engine.connect() as connection:
        counts = (
            connection.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            connection.scalar(select(func.count()).select_from(OutcomeRow)) or 0,
        )
    engine.dispose()
    return counts


def _dry_run(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["policy", "dry-run", *args, "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def test_check_accepts_a_good_file_and_names_its_exchanges(tmp_path: Path) -> None:
    good = _file(
        tmp_path,
        "s.toml",
        STRICTER_TEXT + '\n[exchange.hanbit.sender]\nname_ko = "한빛"\nname_en = "Hanbit"\n',
    )

    result = runner.invoke(app, ["policy", "check", str(good)])

    assert result.exit_code == 0, result.output
    assert "version stricter-1, ok" in result.output
    assert "gopax, hanbit" in result.output


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", '[exchange.upbit.severity.high]\nkyc_deadline = "P30D"\n'),
        ("", '[exchange.newex.sender]\nfrom_email = "x@newex.example"\n'),
        ("min_networks = 3", "min_networks = 0"),
        ('version = "laxer-1"', 'version = "laxer 1"'),
    ],
)
def test_check_gives_exactly_the_error_the_worker_stops_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str
) -> None:
    text = LAXER_TEXT.replace(old, new) if old else LAXER_TEXT + "\n" + new
    bad = _file(tmp_path, "bad.toml", text)
    monkeypatch.setenv("KEYCASE_POLICY_FILE", str(bad))

    checked = runner.invoke(app, ["policy", "check", str(bad)])
    with pytest.raises(SystemExit) as worker:
        worker_main()

    assert checked.exit_code == 2
    assert str(worker.value).startswith(f"keycase worker: policy {bad}: ")
    expected = str(worker.value).removeprefix("keycase worker: ")
    assert " ".join(checked.output.split()) == " ".join(expected.split())


def test_dry_run_of_a_stricter_policy_shows_two_more_expiries_and_an_earlier_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _store(tmp_path, monkeypatch, seeded=True)
    before = _rows(url)
    stricter = _file(tmp_path, "stricter.toml", STRICTER_TEXT)

    document = _dry_run(str(stricter), "--since", "60d")

    cases = {c["case_id"].split(".")[0]: c for c in document["cases"]}
    assert (document["running"], document["new"]) == ("daxa-2026-1", "stricter-1")
    assert document["totals"]["now"]["expired"] == 2
    assert document["totals"]["new"]["expired"] == 4
    assert document["totals"]["new"]["warned"] - document["totals"]["now"]["warned"] == 2
    assert [k for k, c in cases.items() if c["new"]["outcome"] != c["now"]["outcome"]] == [
        "key-a",
        "key-b",
    ]
    assert cases["key-c"]["shifts"] == {"WARNED": -86400.0, "AWAITING_KYC": -86400.0}
    assert cases["key-a"]["new"]["notices"] == ["warning", "kyc_reminder", "expiry"]
    assert _rows(url) == before  # nothing written


def test_dry_run_of_a_laxer_policy_clears_the_expired_keys_and_prints_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(tmp_path, monkeypatch, seeded=True)
    laxer = _file(tmp_path, "laxer.toml", LAXER_TEXT)
    monkeypatch.setattr(policy_cli.console, "width", 220)

    document = _dry_run(str(laxer), "--since", "60d", "--exchange", "bithumb")
    printed = runner.invoke(app, ["policy", "dry-run", str(laxer), "--since", "60d"])

    assert [
        (c["case_id"][:5], c["now"]["outcome"], c["new"]["outcome"]) for c in document["cases"]
    ] == [
        ("key-e", "expired", "cleared"),
        ("key-f", "dismissed", "dismissed"),
    ]
    assert printed.exit_code == 0, printed.output
    assert "dry-run of laxer-1 against daxa-2026-1: 6 case(s)" in printed.output
    assert "WARNED: not with NEW" in printed.output
    assert "in total (3 case(s) change)" in printed.output


def test_dry_run_over_an_empty_store_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(tmp_path, monkeypatch, seeded=False)
    laxer = _file(tmp_path, "laxer.toml", LAXER_TEXT)

    printed = runner.invoke(app, ["policy", "dry-run", str(laxer)])
    document = _dry_run(str(laxer))

    assert printed.exit_code == 0, printed.output
    assert "opened in the last 30d: no cases" in printed.output
    assert document["cases"] == []
    assert document["totals"]["new"]["expired"] == 0


def test_dry_run_refuses_a_bad_new_policy_with_the_workers_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(tmp_path, monkeypatch, seeded=False)
    bad = _file(
        tmp_path, "bad.toml", LAXER_TEXT.replace('kyc_deadline = "P7D"', 'kyc_deadline = "P1M"')
    )

    result = runner.invoke(app, ["policy", "dry-run", str(bad)])

    assert result.exit_code == 2
    assert "severity.low.kyc_deadline" in result.output


def test_a_long_history_replays_behind_the_progress_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _store(tmp_path, monkeypatch, seeded=False)
    t0 = forty_days_ago()
    many = [f for n in range(40) for f in seeded_facts(t0, prefix=f"n{n}-")]

    async def load() -> None:
        store = open_store(url)
        await store.write(lambda c: append_facts(c, many, t0))
        await store.close()

    asyncio.run(load())
    monkeypatch.setattr(policy_cli.console, "width", 220)
    stricter = _file(tmp_path, "stricter.toml", STRICTER_TEXT)

    printed = runner.invoke(app, ["policy", "dry-run", str(stricter), "--since", "60d"])

    assert printed.exit_code == 0, printed.output
    assert "240 case(s)" in printed.output  # past BAR_FROM_CASES
    assert "in total (200 case(s) change)" in printed.output
