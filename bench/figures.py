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
        table = Table(title=title)
        for column in ("scenario", "figure", "value", "unit", "target", "met"):
            table.add_column(column)
        for f in self.figures:
            met = "" if f.ok is None else ("yes" if f.ok else "NO")
            table.add_row(f.scenario, f.name, _fmt(f.value), f.unit, f.target, met)
        Console(highlight=False, width=140).print(table)


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 1 else f"{value:.2f}"
