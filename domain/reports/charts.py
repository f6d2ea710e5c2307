"""Charts as data: what to draw, not how; `reports/` draws them as SVG and into the PDF."""

from pydantic import BaseModel, ConfigDict


class Series(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    values: list[int]


class BarChart(BaseModel):
    """Bars per category: stacked (one bar, a segment per series) or side by side."""

    model_config = ConfigDict(frozen=True)

    title: str
    categories: list[str]
    series: list[Series]
    stacked: bool = True  # False: the series are different populations, compare side by side

    @property
    def peak(self) -> int:
        values = self.totals if self.stacked else [v for s in self.series for v in s.values]
        return max([1, *values])

    def bars(self, i: int) -> list[list[tuple[int, int]]]:
        """Category `i`'s bars, each a list of (series index, value) segments from the bottom."""
        if self.stacked:
            return [[(k, s.values[i]) for k, s in enumerate(self.series)]]
        return [[(k, s.values[i])] for k, s in enumerate(self.series)]

    @property
    def totals(self) -> list[int]:
        return [sum(s.values[i] for s in self.series) for i in range(len(self.categories))]
