"""DetectionSweepWorkflow: one sweep of the access log, started by the detection Schedule.

Count the new rows into the tallies (in rounds, until caught up or `max_counts`), run each
detector over the windows those rows touched (each raises its own alerts through intake),
then mark the span done and prune. The store holds the watermark and the span, so a
sweep that fails or is skipped leaves the next one exactly where to start.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.detection.policy import DETECTOR_NAMES
    from domain.detection.sweep import (
        SWEEP_WORKFLOW,
        ActivityName,
        CountInput,
        CountResult,
        DetectInput,
        DetectResult,
        FinishInput,
        FinishResult,
        SweepInput,
        SweepResult,
    )
    from domain.search_attributes import DETECTOR_HITS

# A few tries, then the sweep fails and the next scheduled one takes over from the store.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5)
COUNT_TIMEOUT = timedelta(minutes=2)
DETECT_TIMEOUT = timedelta(minutes=10)
DETECT_HEARTBEAT = timedelta(minutes=1)  # one heartbeat per alert raised
FINISH_TIMEOUT = timedelta(minutes=5)


@workflow.defn(name=SWEEP_WORKFLOW)
class DetectionSweepWorkflow:
    """Counts, detects and prunes once; the Schedule starts the next."""

    @workflow.run
    async def run(self, request: SweepInput) -> SweepResult:
        """One sweep: what was counted, what each detector raised, what was pruned."""
        rows, counted = 0, None
        for round_ in range(request.max_counts):
            counted = await workflow.execute_activity(
                ActivityName.COUNT_ACCESS_LOG,
                CountInput(round=round_),
                result_type=CountResult,
                start_to_close_timeout=COUNT_TIMEOUT,
                retry_policy=RETRY,
            )
            rows += counted.rows
            if counted.caught_up:
                break
        assert counted is not None  # max_counts is at least 1
        first, last = counted.span_first, counted.span_last
        results: list[DetectResult] = []
        if first is not None and last is not None:
            # A detector added to DETECTOR_NAMES adds a command: gate it with
            # workflow.patched so that a sweep in flight during the deploy replays.
            for name in DETECTOR_NAMES:
                results.append(
                    await workflow.execute_activity(
                        ActivityName.RUN_DETECTOR,
                        DetectInput(detector=name, span_first=first, span_last=last),
                        result_type=DetectResult,
                        start_to_close_timeout=DETECT_TIMEOUT,
                        heartbeat_timeout=DETECT_HEARTBEAT,
                        retry_policy=RETRY,
                    )
                )
        finished = await workflow.execute_activity(
            ActivityName.FINISH_SWEEP,
            FinishInput(span_first=first, span_last=last),
            result_type=FinishResult,
            start_to_close_timeout=FINISH_TIMEOUT,
            retry_policy=RETRY,
        )
        hits = sum(r.hits for r in results)
        workflow.upsert_search_attributes([DETECTOR_HITS.value_set(hits)])
        workflow.set_current_details(_details(rows, results, finished.pruned))
        return SweepResult(rows=rows, detectors=results, pruned=finished.pruned)


def _details(rows: int, results: list[DetectResult], pruned: int) -> str:
    """What the sweep did, as the UI shows it (markdown)."""
    lines = [f"**{rows:,}** access-log rows counted, **{pruned:,}** pruned", ""]
    lines += [
        "| detector | hits | opened | attached | duplicates | refused |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.detector} | {r.hits} | {r.opened} | {r.attached} | {r.duplicates} | {r.refused} |"
        for r in results
    ]
    return "\n".join(lines)
