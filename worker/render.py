"""How the CLI shows API answers: rich tables and panels over plain JSON."""

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

_STAGE_STYLE = {
    "MONITORING": "cyan",
    "WARNED": "yellow",
    "AWAITING_KYC": "bold yellow",
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
    for column in ("case", "exchange", "stage", "severity", "KYC deadline", "assigned", "started"):
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
    """The case's state: stage, key, deadlines, then its alerts, notices and actions."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("stage", stage_text(case.get("stage")))
    for field in ("key_id", "exchange", "severity", "policy_version", "assigned_to"):
        if case.get(field) is not None:
            facts.add_row(field, str(case[field]))
    facts.add_row("KYC deadline", when(case.get("kyc_deadline")))
    parts: list[Any] = [facts]
    for name in ("alerts", "notices", "actions"):
        items = case.get(name) or []
        if items:
            parts.append(_items_table(name, items))
    return Panel(Group(*parts), title=f"case {case['case_id']}", title_align="left")


def _items_table(title: str, items: list[dict[str, Any]]) -> Table:
    columns = list(items[0].keys())[:6]
    table = Table(title=title, title_justify="left", show_edge=False)
    for column in columns:
        table.add_column(column)
    for item in items:
        table.add_row(*(_cell(item.get(column)) for column in columns))
    return table


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return when(value) if _looks_like_time(value) else value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "-" if value is None else str(value)


def _looks_like_time(value: str) -> bool:
    return len(value) >= 19 and value[4] == "-" and value[10] == "T"


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
