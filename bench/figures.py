"""Figures a benchmark prints: a value, the baseline it is measured against, and a target."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table


def percentile(samples: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank; NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Figure:
    """One measured figure; `ok` is None where there is no target to compare with."""

    scenario: str
    name: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None


class Report:
    """Collects figures from every scenario and prints them as one table."""

    def __init__(self) -> None:
        self.figures: list[Figure] = []

    def add(
        self,
        scenario: str,
        name: str,
        value: float,
        unit: str,
        target: str = "",
        ok: bool | None = None,
    ) -> Figure:
        figure = Figure(scenario, name, value, unit, target, ok)
        self.figures.append(figure)
        Console(highlight=False).print(f"  {scenario}: {name} = {_fmt(value)} {unit}")
        return figure

    def print(self, title: str) -> None:
        """The figures as one table: value, target and whether it was met."""
        print_side_by_side(title, {"value": self})


def print_side_by_side(title: str, reports: dict[str, Report]) -> None:
    """One table, a value and a met column per store, figures in the order first seen."""
    rows: dict[tuple[str, str], dict[str, Figure]] = {}
    for store, report in reports.items():
        for f in report.figures:
            rows.setdefault((f.scenario, f.name), {})[store] = f
    table = Table(title=title)
    for column in (
        "scenario",
        "figure",
        *reports,
        "unit",
        "target",
        *(f"met {s}" for s in reports),
    ):
        table.add_column(column)
    for (scenario, name), by_store in rows.items():
        any_figure = next(iter(by_store.values()))
        values = [_fmt(by_store[s].value) if s in by_store else "" for s in reports]
        met = [
            "" if s not in by_store or by_store[s].ok is None else _met(by_store[s].ok)
            for s in reports
        ]
        table.add_row(scenario, name, *values, any_figure.unit, any_figure.target, *met)
    Console(highlight=False, width=160).print(table)


def _met(ok: bool | None) -> str:
    return "" if ok is None else ("yes" if ok else "NO")


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 1 else f"{value:.2f}"
