"""The benchmarks run end to end at a small size: every scenario finishes and reports figures.

Figures are not judged here (a timed pass/fail would flake on a busy machine); only that
each scenario measured what it claims, with the correctness checks that do not depend on
speed: every case expired, every alert audited, one open case per key.
"""

import math
from pathlib import Path

import pytest

from bench import codec
from bench.__main__ import POLICY, SCENARIOS, SIZES, run

pytestmark = pytest.mark.e2e


async def test_every_benchmark_scenario_reports_its_figures(tmp_path: Path) -> None:
    # `faults` starts a stack of its own; tests/e2e/test_faults.py runs it at this size.
    shared_stack = [name for name in SCENARIOS if name != "faults"]
    report = await run(SIZES["smoke"], shared_stack, tmp_path)

    scenarios = {f.scenario for f in report.figures}
    assert scenarios == {
        "case cost",
        "time to act",
        "time to act under load",
        "alert intake",
        "gateway",
        "gateway replica",
        "flood",
        "scale",
        "hostile callbacks",
        "detection",
        "rings",
    }
    assert len(SCENARIOS) == 12
    assert all(not math.isnan(f.value) for f in report.figures)
    signed = {"history events, case - same-shape"}  # a difference: either sign is a result
    assert all(f.value >= 0 for f in report.figures if f.name not in signed)
    checks = {(f.scenario, f.name): f for f in report.figures}
    assert checks[("case cost", "cases ending EXPIRED")].ok
    assert checks[("flood", "alerts in the audit log")].ok
    assert checks[("flood", "open cases")].ok
    assert checks[("scale", "open cases held")].ok
    held = checks[("gateway replica", "changes held by every replica")]
    assert held.unit == f"of {held.value:.0f}"
    assert checks[("hostile callbacks", "forged 4 MiB callbacks sent")].value > 0
    assert checks[("hostile callbacks", "callbacks taken or failing (2xx/5xx)")].ok
    fanned = checks[("rings", "member cases updated by one ring action")]
    assert fanned.unit == f"of {fanned.value:.0f}"  # every member case took the ring's action


async def test_the_codec_comparison_runs_with_encryption_off(tmp_path: Path) -> None:
    # `python -m bench --codec off`: the same worker CPU and intake figures, plain payloads.
    report = await run(SIZES["smoke"], ["case-cost", "intake"], tmp_path, encryption=False)

    checks = {(f.scenario, f.name): f for f in report.figures}
    assert checks[("case cost", "cases ending EXPIRED")].ok
    assert {f.scenario for f in report.figures} == {"case cost", "alert intake"}


async def test_the_codec_comparison_reports_both_runs_and_their_ratio(tmp_path: Path) -> None:
    reports = await codec.compare(3, 20, 4, tmp_path, POLICY)

    assert list(reports) == ["codec off", "codec on", "on / off"]
    for label in ("codec off", "codec on"):
        checks = {f.name: f for f in reports[label].figures}
        assert checks["cases ending EXPIRED"].ok is True
        assert checks["worker CPU per expiry case"].value > 0
    ratios = {f.name: f.value for f in reports["on / off"].figures}
    # CPU is counted in clock ticks: a figure of 0 at this size has no ratio.
    assert {"expiry cases per second", "POST /v1/alerts per second"} <= set(ratios)
    assert all(value > 0 for value in ratios.values())
