"""How the CLI shows API answers: rich tables and panels over plain JSON."""

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

_STAGE_STYLE = {
    "MONITORING": "cyan",
    "WARNED": "yellow",
    "AWAITING_KYC": "bold yellow",
    "OWNER_UNREACHABLE": "bold magenta",
    "PROBATION": "blue",
    "RESTORED": "green",
    "CLEARED": "green",
    "DISMISSED": "dim",
    "EXPIRED": "bold red",
}


def stage_text(stage: str | None) -> str:
    if not stage:
        return "-"
    return f"[{_STAGE_STYLE.get(stage, 'default')}]{stage}[/]"


def when(value: str | None) -> str:
    """ISO timestamps as `YYYY-MM-DD HH:MM:SS` (UTC, as the API gives them)."""
    return value.replace("T", " ")[:19] if value else "-"


def cases_table(cases: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(cases)} case(s)", title_justify="left")
    table.add_column("case", overflow="fold")  # ids are copied from here: never cut them
    for column in ("exchange", "stage", "severity", "KYC deadline", "assigned", "started"):
        table.add_column(column)
    for case in cases:
        table.add_row(
            case["case_id"],
            case.get("exchange") or "-",
            stage_text(case.get("stage")),
            case.get("severity") or "-",
            when(case.get("kyc_deadline")),
            case.get("assigned_to") or "-",
            when(case.get("started_at")),
        )
    return table


def case_panel(case: dict[str, Any]) -> Panel:
    """The case's state (the workflow's `case` query, as the API returns it)."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("stage", stage_text(case.get("stage")))
    for field in ("key_id", "account_id", "exchange", "severity", "key_status", "assigned_to"):
        if case.get(field) is not None:
            facts.add_row(field, str(case[field]))
    pinned = case.get("policy_exchange")
    policy = str(case.get("policy_version", "-"))
    facts.add_row("policy", f"{policy} for {pinned}" if pinned else policy)
    for field in ("opened_at", "monitoring_until", "kyc_deadline", "probation_until"):
        if case.get(field):
            facts.add_row(field, when(case[field]))
    if case.get("closed_at"):
        facts.add_row("closed_at", when(case["closed_at"]))
    alerts = case.get("alerts") or {}
    kinds = ", ".join(f"{kind}: {n}" for kind, n in (alerts.get("kinds") or {}).items())
    facts.add_row(
        "alerts",
        f"{alerts.get('count', 0)} ({kinds or 'none'}), "
        f"{alerts.get('duplicates', 0)} repeated deliveries ignored",
    )
    parts: list[Any] = [facts, _stages_table(case.get("stages") or [])]
    if case.get("notices"):
        parts.append(_notices_table(case["notices"]))
    if case.get("actions"):
        parts.append(_actions_table(case["actions"]))
    return Panel(Group(*parts), title=f"case {case['case_id']}", title_align="left")


def _stages_table(stages: list[dict[str, Any]]) -> Table:
    table = Table("when", "stage", "by", "why", title="stages", title_justify="left")
    for change in stages:
        table.add_row(
            when(change.get("at")),
            stage_text(change.get("stage")),
            change.get("actor", "-"),
            change.get("reason", ""),
        )
    return table


def _notices_table(notices: list[dict[str, Any]]) -> Table:
    table = Table("requested", "notice", "channels", title="notices", title_justify="left")
    for notice in notices:
        channels = " ".join(f"{c['channel']}:{c['status']}" for c in notice.get("channels", []))
        table.add_row(
            when(notice.get("requested_at")),
            notice["notice_id"],
            channels or notice.get("error") or "sending",
        )
    return table


def _actions_table(actions: list[dict[str, Any]]) -> Table:
    table = Table("#", "when", "action", "officer", "reason", title="officer actions")
    table.title_justify = "left"
    for action in actions:
        table.add_row(
            str(action.get("seq", "")),
            when(action.get("at")),
            action.get("action", "?"),
            action.get("actor", "-"),
            action.get("reason", ""),
        )
    return table


def audit_table(rows: list[dict[str, Any]]) -> Table:
    """The audit timeline, oldest first, with each row's hash prefix."""
    table = Table(title="audit timeline", title_justify="left")
    for column in ("#", "when", "event", "actor", "hash"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.get("seq", "")),
            when(row.get("occurred_at")),
            row.get("event_type", "?"),
            row.get("actor", "-"),
            (row.get("row_hash") or "")[:12],
        )
    return table
