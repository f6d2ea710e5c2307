"""`keycase demo`: accounts and keys on the five DAXA exchanges and a spread of alerts.

With the demo policy (`keycase up --demo`) the cases land in every stage within a
minute: some stay in MONITORING, AWAITING_KYC or PROBATION for ten minutes so you can
act on them in the Temporal UI, others reach CLEARED, DISMISSED, EXPIRED and RESTORED;
one officer's expire-now on a high case waits for a second officer's approval.
"""

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

import config
from api.auth import Role
from cli.http import KeycaseApi

DEMO_POLICY = Path(config.__file__).with_name("demo_policy.toml")
EXCHANGES = ("upbit", "bithumb", "coinone", "korbit", "gopax")


@dataclass(frozen=True)
class Scene:
    """One key's story: the alerts it gets and what the officer or KYC provider does."""

    exchange: str
    severity: str
    kind: str
    alerts: int = 1
    then: str = ""  # "", "kyc_pass", "dismiss", "expire_now", "assign"
    expect: str = ""  # where the case should end up (for the printout)


SCENES = (
    Scene("upbit", "low", "ip_anomaly", expect="MONITORING (10 min)"),
    Scene("bithumb", "medium", "key_sharing", expect="CLEARED after 20 s quiet"),
    Scene("coinone", "medium", "wash_trading", alerts=2, expect="AWAITING_KYC (10 min)"),
    Scene("korbit", "high", "spoofing", then="assign", expect="AWAITING_KYC, assigned"),
    Scene("gopax", "high", "key_sharing", then="kyc_pass", expect="PROBATION (10 min)"),
    Scene("upbit", "critical", "coordinated_activity", expect="EXPIRED after 30 s"),
    Scene("bithumb", "critical", "key_sharing", then="kyc_pass", expect="RESTORED after 30 s"),
    Scene("coinone", "low", "other", then="dismiss", expect="DISMISSED by an officer"),
    Scene(
        "korbit",
        "high",
        "ip_anomaly",
        then="expire_now",
        expect="expire-now waiting for a second officer (four eyes)",
    ),
    Scene("gopax", "medium", "spoofing", alerts=2, then="assign", expect="AWAITING_KYC"),
)


def run_demo(api: KeycaseApi, console: Console) -> list[str]:
    """Register, alert and act; returns the case ids. Names are fresh on every run."""
    run = secrets.token_hex(3)
    console.print(f"[bold]keycase demo[/] run {run}: 10 keys on {', '.join(EXCHANGES)}")
    cases: list[tuple[Scene, str]] = []
    for number, scene in enumerate(SCENES, start=1):
        key_id = f"demo-{run}-{scene.exchange}-{number}"
        account_id = f"acct-{run}-{number}"
        _register(api, account_id, key_id, scene.exchange, number)
        case_id = ""
        for alert in range(scene.alerts):
            case_id = _raise(api, f"{key_id}-a{alert}", key_id, account_id, scene)
        cases.append((scene, case_id))
        console.print(f"  {scene.severity:<8} {scene.kind:<20} {case_id}  → {scene.expect}")
        if number == 1:
            # Surveillance may deliver an alert twice; the second delivery changes nothing.
            again = _raise(api, f"{key_id}-a0", key_id, account_id, scene)
            console.print(f"  the same alert again → {again}")

    for scene, case_id in cases:
        if scene.then:
            _act(api, scene.then, case_id)
    console.print(
        'Open the Temporal UI and filter, e.g. [bold]CaseStage="AWAITING_KYC"[/]; '
        "`keycase cases` lists them here."
    )
    return [case_id for _, case_id in cases]


def _register(api: KeycaseApi, account_id: str, key_id: str, exchange: str, n: int) -> None:
    api.call(
        Role.ADMIN,
        "POST",
        "/v1/accounts",
        {
            "account_id": account_id,
            "email": f"trader{n}@example.com",
            "phone": f"+8210555{n:05d}",
            "locale": "ko" if n % 2 else "en",
        },
    )
    api.call(
        Role.ADMIN,
        "POST",
        "/v1/keys",
        {
            "key_id": key_id,
            "account_id": account_id,
            "exchange": exchange,
            "permissions": ["read", "trade", "withdraw"],
            "allowed_ips": [f"203.0.113.{n}", "2001:db8::/64"],
        },
    )


def _raise(api: KeycaseApi, alert_id: str, key_id: str, account_id: str, scene: Scene) -> str:
    accepted: dict[str, Any] = api.call(
        Role.SURVEILLANCE,
        "POST",
        "/v1/alerts",
        {
            "alert_id": alert_id,
            "key_id": key_id,
            "account_id": account_id,
            "exchange": scene.exchange,
            "kind": scene.kind,
            "severity": scene.severity,
            "observed_at": datetime.now(UTC).isoformat(),
            "evidence": {"source": "keycase demo", "score": 0.9},
        },
    )
    if accepted["status"] == "duplicate":
        return f"duplicate of {accepted['case_id']}"
    return str(accepted["case_id"])


def _act(api: KeycaseApi, then: str, case_id: str) -> None:
    path = f"/v1/cases/{case_id}"
    if then == "kyc_pass":
        _wait_for_stage(api, case_id, "AWAITING_KYC")
        api.call(Role.KYC, "POST", f"{path}/kyc", {"passed": True, "reference": "demo-kyc"})
    elif then == "assign":
        body = {"reason": "demo: take this one", "assignee": "kim"}
        api.call(Role.OFFICER, "POST", f"{path}/actions/assign", body)
    elif then == "dismiss":
        body = {"reason": "demo: a known market maker, not sharing"}
        api.call(Role.OFFICER, "POST", f"{path}/actions/dismiss", body)
    elif then == "expire_now":
        body = {"reason": "demo: confirmed key lending"}
        api.call(Role.OFFICER, "POST", f"{path}/actions/expire-now", body)


def _wait_for_stage(api: KeycaseApi, case_id: str, stage: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while api.call(Role.OFFICER, "GET", f"/v1/cases/{case_id}")["stage"] != stage:
        if time.monotonic() > deadline:
            raise TimeoutError(f"case {case_id} did not reach {stage} in {seconds:.0f}s")
        time.sleep(0.5)
