"""`keycase detect backtest`: the detectors over past traffic, printed, nothing raised."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from cli.commands import app
from store.engine import open_store
from store.intake import AlertIntakeRow
from store.migrate import sync_url
from tests.detection.loading import register, replay_requests
from tests.detection.patterns import labelled_patterns
from tests.store.databases import sqlite_database


@pytest.fixture
def logged_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store holding two days-old labelled traffic; KEYCASE_* pointing at it."""
    url = sqlite_database(tmp_path)

    async def load() -> None:
        store = open_store(url)
        patterns = labelled_patterns(datetime.now(UTC) - timedelta(days=2), prefix="cli")
        await register(store, patterns)
        await replay_requests(store, patterns)
        await store.close()

    asyncio.run(load())
    for name in ("KEYCASE_POLICY_FILE", "KEYCASE_API_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KEYCASE_DATABASE_URL", url)
    return url


def _intake_rows(url: str) -> int:
    engine = create_engine(sync_url(url))
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(AlertIntakeRow)).scalar()
    engine.dispose()
    return int(count or 0)


def test_backtest_prints_hits_per_detector_and_the_keys_and_raises_nothing(
    logged_store: str,
) -> None:
    result = CliRunner().invoke(
        app, ["detect", "backtest", "--since", "7d"], env={"COLUMNS": "250"}
    )

    assert result.exit_code == 0, result.output
    assert "cli-five-networks-1" in result.output
    assert "cli-ip-four-accounts-4" in result.output
    for name in ("many_networks", "whitelist_probing", "shared_origin", "client_drift"):
        assert name in result.output
    assert "office-nat" not in result.output and "owner-two-ips" not in result.output
    assert _intake_rows(logged_store) == 0


def test_backtest_with_a_stricter_policy_file_finds_less(logged_store: str, tmp_path: Path) -> None:
    strict = tmp_path / "strict.toml"
    strict.write_text("[detectors.many_networks]\nmin_networks = 6\n")

    result = CliRunner().invoke(
        app,
        ["detect", "backtest", "--since", "P7D", "--policy", str(strict)],
        env={"COLUMNS": "250"},
    )

    assert result.exit_code == 0, result.output
    assert "cli-five-networks-1" not in result.output
    assert "min_networks=6" in result.output


def test_backtest_with_a_bad_policy_names_the_field(logged_store: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[detectors.shared_origin]\nwindow = "PT7M"\n')

    result = CliRunner().invoke(app, ["detect", "backtest", "--policy", str(bad)])

    assert result.exit_code == 2
    assert "detectors.shared_origin" in result.output
