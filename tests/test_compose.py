"""docker-compose.yml, checked with Debian's docker-compose (no Docker engine needed)."""

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from domain.search_attributes import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = shutil.which("docker-compose")

needs_compose = pytest.mark.skipif(
    COMPOSE is None, reason="docker-compose not installed (.ci/run installs Debian's)"
)

SECRETS = {
    "KEYCASE_API_TOKENS": "admin:ops:a-long-random-token",
    "POSTGRES_PASSWORD": "pg-secret",
    "TEMPORAL_DB_PASSWORD": "temporal-secret",
    "KEYCASE_DB_PASSWORD": "keycase-secret",
    "KEYCASE_PAYLOAD_KEYS": "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "KEYCASE_ANCHOR_SIGNING_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
}


def compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KEYCASE_", "POSTGRES_"))}
    return subprocess.run(
        [COMPOSE, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def resolved() -> dict[str, Any]:
    result = compose("config", env=SECRETS)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


@needs_compose
def test_compose_file_is_valid_when_secrets_are_set() -> None:
    result = compose("config", "-q", env=SECRETS)
    assert result.returncode == 0, result.stderr


@needs_compose
@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_run_without_each_secret(missing: str) -> None:
    env = {k: v for k, v in SECRETS.items() if k != missing}
    result = compose("config", "-q", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


@needs_compose
def test_stack_has_temporal_on_postgres_its_ui_and_keycase_services() -> None:
    services = resolved()["services"]
    assert {
        "postgresql",
        "temporal-schema",
        "temporal",
        "temporal-register",
        "temporal-ui",
        "keycase-migrate",
        "keycase-api",
        "keycase-worker",
    } <= set(services)
    assert services["temporal"]["environment"]["DB"] == "postgres12"
    store_url = services["keycase-worker"]["environment"]["KEYCASE_DATABASE_URL"]
    assert store_url.startswith("postgresql+psycopg://keycase:")
    assert store_url.endswith("@postgresql:5432/keycase")


@needs_compose
def test_worker_service_can_be_scaled_out() -> None:
    worker = resolved()["services"]["keycase-worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["deploy"]["replicas"] >= 2
    assert worker["command"] == ["worker"]


@needs_compose
def test_keycase_services_start_after_migrations_and_search_attributes() -> None:
    services = resolved()["services"]
    for name in ("keycase-api", "keycase-worker"):
        needs = services[name]["depends_on"]
        assert needs["keycase-migrate"]["condition"] == "service_completed_successfully"
        assert needs["temporal-register"]["condition"] == "service_completed_successfully"


@needs_compose
def test_a_one_shot_job_creates_the_detection_schedule_once_temporal_is_registered() -> None:
    job = resolved()["services"]["keycase-schedule"]
    assert job["command"] == ["detect", "schedule"]
    assert job["restart"] == "no"
    assert job["depends_on"]["temporal-register"]["condition"] == "service_completed_successfully"


@needs_compose
def test_only_the_api_gets_tokens_and_it_listens_on_all_interfaces_in_its_container() -> None:
    services = resolved()["services"]
    assert "KEYCASE_API_TOKENS" not in services["keycase-worker"]["environment"]
    api = services["keycase-api"]
    assert api["environment"]["KEYCASE_API_TOKENS"] == SECRETS["KEYCASE_API_TOKENS"]
    assert api["environment"]["KEYCASE_API_HOST"] == "0.0.0.0"
    assert all(str(port).startswith("127.0.0.1:") for port in api["ports"])


@needs_compose
def test_the_api_and_every_worker_share_the_payload_keys_and_the_ui_decodes_through_the_api() -> (
    None
):
    services = resolved()["services"]
    for name in ("keycase-api", "keycase-worker"):
        env = services[name]["environment"]
        assert env["KEYCASE_PAYLOAD_KEYS"] == SECRETS["KEYCASE_PAYLOAD_KEYS"]
        assert env["KEYCASE_TEMPORAL_UI_ORIGINS"] == "http://127.0.0.1:8080"
    ui = services["temporal-ui"]["environment"]
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == "http://127.0.0.1:8000/codec"
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"


@needs_compose
def test_the_report_schedules_job_and_a_shared_reports_folder() -> None:
    services = resolved()["services"]
    job = services["keycase-report-schedule"]
    assert job["command"] == ["report", "schedule"] and job["restart"] == "no"
    for name in ("keycase-api", "keycase-worker"):
        env = services[name]["environment"]
        assert env["KEYCASE_ANCHOR_SIGNING_KEY"] == SECRETS["KEYCASE_ANCHOR_SIGNING_KEY"]
        mounts = [
            (v["source"], v["target"]) if isinstance(v, dict) else tuple(v.split(":")[:2])
            for v in services[name]["volumes"]
        ]
        assert ("keycase-reports", "/var/lib/keycase/reports") in mounts


def test_registration_job_creates_every_search_attribute_keycase_uses() -> None:
    script = (ROOT / "deploy/temporal/register.sh").read_text()
    registered: dict[str, str] = {}
    for command in re.findall(r"search-attribute create(.*?--type \w+)", script, re.S):
        kind = re.search(r"--type (\w+)", command)
        assert kind is not None
        for name in re.findall(r"--name (\w+)", command):
            registered[name] = kind.group(1)
    assert registered == SEARCH_ATTRIBUTES


def test_image_copies_every_package_keycase_installs() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    dockerfile = (ROOT / "Dockerfile").read_text()

    copied = set(re.findall(r"^COPY (\w+) \1$", dockerfile, re.M))
    assert copied == packages
