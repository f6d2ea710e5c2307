"""The detection store benchmark runs at a small size and reports every figure.

Figures are not judged (a timed pass/fail would flake on a busy machine); the check that
does not depend on speed is: over a week of owner traffic the detectors find exactly the
labelled lent keys mixed into it, and nothing else.
"""

import math
from datetime import UTC, datetime

from bench.detection_store import SIZES, run
from tests.detection.patterns import labelled_patterns


def test_detection_bench_reports_sweep_backtest_and_baseline_figures() -> None:
    report = run(SIZES["smoke"], [])

    expected = sum(len(p.expected) for p in labelled_patterns(datetime.now(UTC)))
    by_store: dict[str, dict[str, float]] = {}
    for figure in report.figures:
        assert not math.isnan(figure.value) and figure.value >= 0, figure
        by_store.setdefault(figure.scenario, {})[figure.name] = figure.value
    assert "detection (SQLite)" in by_store  # and PostgreSQL when KEYCASE_TEST_POSTGRES_URL is set
    for figures in by_store.values():
        names = " | ".join(figures)
        assert "(baseline)" in names and "one-minute sweep" in names
        assert figures["7-day backtest, total"] > 0
        assert figures["backtest hits (all detectors)"] == expected
