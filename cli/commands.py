"""`keycase`: run the stack, the worker or the API, and look at cases over the API."""

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from api.auth import Role
from cli.detect import detect_app
from cli.http import ApiError, KeycaseApi
from cli.policy import policy_app
from cli.render import audit_table, case_panel, cases_table
from cli.report import report_app
from config.settings import Settings
from domain.alerts import AlertKind, Severity
from domain.stages import CaseStage

app = typer.Typer(
    help="keycase: DAXA API-key enforcement cases on Temporal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(detect_app, name="detect")
app.add_typer(policy_app, name="policy")
app.add_typer(report_app, name="report")
console = Console(highlight=False, soft_wrap=True)


@app.command()
def up(
    demo: Annotated[
        bool, typer.Option(help="use the fast demo policy and raise the demo's alerts")
    ] = False,
) -> None:
    """Start Temporal (dev server + UI), migrations, the worker and the API; Ctrl-C stops all."""
    from local_stack.stack import run_stack

    raise typer.Exit(run_stack(Settings(), demo=demo))


@app.command()
def worker() -> None:
    """Run one worker on the task queue (start several to share the work)."""
    from worker.main import main

    main()


@app.command()
def api(
    access_log: Annotated[
        bool, typer.Option(help="log one line per HTTP request (about 0.1 ms of CPU each)")
    ] = False,
) -> None:
    """Serve the HTTP API (KEYCASE_API_HOST / KEYCASE_API_PORT)."""
    import uvicorn

    settings = Settings()
    # Named rather than "auto", so a missing uvloop or httptools fails loudly instead of
    # silently serving on the pure-Python loop and parser.
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        loop="uvloop",
        http="httptools",
        access_log=access_log,
    )


@app.command()
def migrate() -> None:
    """Bring the store's schema up to date."""
    from store.migrate import upgrade

    settings = Settings()
    upgrade(settings.effective_database_url)
    console.print("store schema is up to date")


@app.command()
def alert(
    key_id: str,
    account: Annotated[str, typer.Option(help="the key owner's account id")],
    exchange: Annotated[str, typer.Option(help="upbit, bithumb, coinone, korbit, gopax, …")],
    kind: Annotated[AlertKind, typer.Option()] = AlertKind.KEY_SHARING,
    severity: Annotated[Severity, typer.Option()] = Severity.MEDIUM,
    alert_id: Annotated[str | None, typer.Option(help="default: a new uuid")] = None,
    evidence: Annotated[str, typer.Option(help="a JSON object")] = "{}",
) -> None:
    """Raise one surveillance alert (as the surveillance role)."""
    try:
        details = json.loads(evidence)
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"not JSON: {error}", param_hint="--evidence") from None
    body = {
        "alert_id": alert_id or f"cli-{uuid.uuid4()}",
        "key_id": key_id,
        "account_id": account,
        "exchange": exchange,
        "kind": kind.value,
        "severity": severity.value,
        "observed_at": datetime.now(UTC).isoformat(),
        "evidence": details,
    }
    result = _call(Role.SURVEILLANCE, "POST", "/v1/alerts", body)
    console.print(f"{result['status']}: case {result['case_id']}")


@app.command()
def cases(
    stage: Annotated[CaseStage | None, typer.Option()] = None,
    exchange: Annotated[str | None, typer.Option()] = None,
    severity: Annotated[Severity | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """List cases, newest first (as the officer role)."""
    page = _call(
        Role.OFFICER,
        "GET",
        "/v1/cases",
        stage=stage.value if stage else None,
        exchange=exchange,
        severity=severity.value if severity else None,
        limit=limit,
    )
    console.print(cases_table(page["cases"]))


@app.command()
def case(case_id: str) -> None:
    """One case: its state and its audit timeline (as the officer role)."""
    state = _call(Role.OFFICER, "GET", f"/v1/cases/{case_id}")
    rows = _call(Role.OFFICER, "GET", f"/v1/cases/{case_id}/audit")
    console.print(case_panel(state))
    console.print(audit_table(rows))


@audit_app.command("verify")
def audit_verify(
    anchors: Annotated[
        Path | None,
        typer.Option(
            help="an exported anchors file (JSON lines): check the store directly against it"
        ),
    ] = None,
) -> None:
    """Check the whole audit chain and its anchors; exits 1 if either is broken.

    Without --anchors, over the API (as the auditor role) against the stored anchors."""
    from cli.audit import print_verification, verify_with_file
    from store.anchors import ChainVerification

    if anchors is None:
        result = ChainVerification.model_validate(_call(Role.AUDITOR, "GET", "/v1/audit/verify"))
    else:
        try:
            result = verify_with_file(Settings(), anchors)
        except (OSError, ValueError) as error:
            console.print(f"[red]{error}[/]")
            raise typer.Exit(2) from None
    print_verification(console, result)
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("anchors")
def audit_anchors(
    out: Annotated[Path | None, typer.Option(help="write here instead of standard output")] = None,
) -> None:
    """Export every stored anchor (JSON lines), to keep where the database's owners cannot."""
    from cli.audit import export_anchors

    text = export_anchors(Settings())
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        console.print(f"{text.count(chr(10))} anchors written to {out}")


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Sign the chain's head now into the store (and the data folder's anchors file)."""
    from cli.audit import anchor_now

    anchor = anchor_now(Settings())
    if anchor is None:
        console.print("the audit chain is empty: nothing to anchor")
    else:
        console.print(f"anchored row {anchor.chain_seq} ({anchor.row_hash[:16]}…)")


@app.command()
def demo() -> None:
    """Register accounts and keys on the five DAXA exchanges and raise a spread of alerts
    (against a running stack; `keycase up --demo` starts one with the fast demo policy)."""
    from cli.demo import run_demo

    with KeycaseApi.from_settings(Settings()) as client:
        run_demo(client, console)


def _call(role: Role, method: str, path: str, body: Any = None, **params: Any) -> Any:
    try:
        with KeycaseApi.from_settings(Settings()) as client:
            return client.call(role, method, path, body, **params)
    except (ApiError, LookupError) as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None
    except httpx.TransportError as error:
        console.print(f"[red]API not reachable ({error}); is `keycase up` running?[/]")
        raise typer.Exit(1) from None


if __name__ == "__main__":
    app()
