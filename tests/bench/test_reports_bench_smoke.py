"""`python -m bench.reports` at a tiny size: every figure is measured and printed."""

from pathlib import Path

from bench.reports import run


async def test_reports_bench_measures_the_pack_and_the_month(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}"
    report = await run(url, tmp_path, rows=40, cases=30)

    names = {(f.scenario, f.name) for f in report.figures}
    assert ("case pack, 40 rows", "render pdf") in names
    assert ("monthly, 30 cases", "gather (store reads, figures, verify)") in names
    assert all(f.value > 0 for f in report.figures)
