"""The first measure of a case as intake applies it, the moment the case opens.

Heightened monitoring is what the regulator asks to come first and fast. A case's first
turn waits for a worker behind every other case's timers and notices, so intake applies
the measure itself, in the transaction that settles the alert, keyed by the same event id
the case's own turn uses (`measure_event_id`): the turn then finds it applied and only
adds its facts (store.registry.apply_measure is idempotent by event id).
"""

from datetime import datetime

from domain.activity_io import ApplyKeyMeasureInput, KeyMeasure
from domain.case_reactions import OPENING_MEASURE


def measure_event_id(case_id: str, measure: KeyMeasure) -> str:
    """The event id of a case's key measure: one per case and measure."""
    return f"{case_id}:key:{measure.value}"


def opening_measure(case_id: str, key_id: str, now: datetime) -> ApplyKeyMeasureInput:
    """The case's first measure, as its first turn would ask for it."""
    return ApplyKeyMeasureInput(
        event_id=measure_event_id(case_id, OPENING_MEASURE.measure),
        case_id=case_id,
        key_id=key_id,
        measure=OPENING_MEASURE.measure,
        actor=OPENING_MEASURE.actor,
        reason=OPENING_MEASURE.reason,
        occurred_at=now,
    )
