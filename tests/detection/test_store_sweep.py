"""Counting the access log into tallies and running the detectors on them, on both backends."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select

from activities.detection_runs import chunks, detect, windows_of
from domain.detection.hits import Hit
from domain.detection.policy import DETECTOR_NAMES, DetectionPolicy
from store.detection import Counted, count_new_rows, finish_span, pending_span, prune_access_log
from store.models import AccessLogEntry
from store.port import Store
from tests.detection.loading import register, replay_requests
from tests.detection.patterns import labelled_patterns

START = datetime(2026, 3, 2, 0, 3, tzinfo=UTC)
LATER = START + timedelta(days=2)
POLICY = DetectionPolicy()


def _all_hits(connection: Connection) -> list[Hit]:
    span = pending_span(connection)
    assert span is not None
    hits: list[Hit] = []
    for name in DETECTOR_NAMES:
        for chunk in chunks(windows_of(POLICY, name, span.first, span.last)):
            hits += detect(connection, POLICY, name, chunk)
    return hits


async def test_every_abusive_pattern_hits_and_no_benign_one(store: Store) -> None:
    patterns = labelled_patterns(START)
    await register(store, patterns)
    logged = await replay_requests(store, patterns)

    counted = await store.bulk(
        lambda c: count_new_rows(c, max_rows=100_000, settled_before=LATER, now=LATER)
    )
    hits = await store.scan(_all_hits)

    assert counted.rows == logged and counted.caught_up
    found = {(h.detector, h.key_id) for h in hits}
    for pattern in patterns:
        mine = {(d, k) for d, k in found if k in {spec.key_id for spec in pattern.keys}}
        assert mine >= pattern.expected, pattern.name
        if not pattern.abusive:
            assert mine == set(), pattern.name
    assert len(hits) == len(found), "one hit per detector and key: no episode reported twice"
    assert len({h.alert_id for h in hits}) == len(hits)


async def test_evidence_names_detector_thresholds_rows_and_networks(store: Store) -> None:
    patterns = [
        p for p in labelled_patterns(START) if p.name in ("five-networks", "ip-four-accounts")
    ]
    await register(store, patterns)
    await replay_requests(store, patterns)
    await store.bulk(lambda c: count_new_rows(c, max_rows=1000, settled_before=LATER, now=LATER))
    hits = await store.scan(_all_hits)

    spread = next(h for h in hits if h.detector == "many_networks")
    evidence = spread.evidence
    assert evidence["thresholds"] == {"min_networks": 3, "window": "PT30M"}
    assert evidence["counts"]["networks"] == 5 and evidence["counts"]["denied"] == 4
    assert evidence["networks"]["values"][0] == "100.64.1.0/24"
    assert evidence["first_row"]["id"] < evidence["last_row"]["id"]
    shared = [h for h in hits if h.detector == "shared_origin"]
    assert len(shared) == 4
    assert shared[0].evidence["origin"] == {"kind": "ip", "value": "100.80.0.8"}
    assert shared[0].evidence["related_keys"]["total"] == 3
    assert shared[0].key_id not in shared[0].evidence["related_keys"]["values"]


async def test_counting_is_bounded_and_never_counts_a_row_twice(store: Store) -> None:
    patterns = labelled_patterns(START)
    await register(store, patterns)
    logged = await replay_requests(store, patterns)

    rounds: list[Counted] = []
    while not rounds or not rounds[-1].caught_up:
        rounds.append(
            await store.bulk(
                lambda c: count_new_rows(c, max_rows=50, settled_before=LATER, now=LATER)
            )
        )
    again = await store.bulk(
        lambda c: count_new_rows(c, max_rows=50, settled_before=LATER, now=LATER)
    )

    assert sum(r.rows for r in rounds) == logged and all(r.rows <= 50 for r in rounds)
    assert again.rows == 0
    hits = await store.scan(_all_hits)
    assert {h.detector for h in hits} == set(DETECTOR_NAMES)


async def test_rows_not_yet_settled_wait_for_the_next_count(store: Store) -> None:
    patterns = [p for p in labelled_patterns(START) if p.name == "retry-burst"]
    await register(store, patterns)
    await replay_requests(store, patterns)
    halfway = START + timedelta(seconds=5)

    first = await store.bulk(
        lambda c: count_new_rows(c, max_rows=99, settled_before=halfway, now=halfway)
    )
    second = await store.bulk(
        lambda c: count_new_rows(c, max_rows=99, settled_before=LATER, now=LATER)
    )

    # The first count stops at the young rows and says it caught up: a sweep under steady
    # traffic counts once, it does not chase the rows settling behind it.
    assert (first.rows, first.caught_up) == (20, True)
    assert (second.rows, second.caught_up) == (20, True)


async def test_finishing_clears_the_span_and_pruning_keeps_uncounted_rows(
    store: Store,
) -> None:
    patterns = labelled_patterns(START)
    await register(store, patterns)
    logged = await replay_requests(store, patterns)
    await store.bulk(lambda c: count_new_rows(c, max_rows=100, settled_before=LATER, now=LATER))
    span = await store.read(pending_span)
    assert span is not None
    assert await store.write(lambda c: finish_span(c, span, LATER))
    assert await store.read(pending_span) is None

    pruned = 0
    while deleted := await store.bulk(lambda c: prune_access_log(c, before=LATER, batch=30)):
        assert deleted <= 30
        pruned += deleted

    left = await store.read(
        lambda c: c.execute(select(func.count()).select_from(AccessLogEntry)).scalar()
    )
    assert pruned == 100 and left == logged - 100  # only the counted rows are pruned
