"""The recorded cases read back for a dry-run, replayed under three policies."""

from datetime import UTC, datetime, timedelta

from domain.policy import parse_policy
from domain.policy_replay import compare
from domain.stages import CaseStage
from store.audit import append_facts
from store.port import Store
from store.reports import case_histories, count_cases
from tests.store.seeded_cases import (
    DAY,
    LAXER_TEXT,
    RUNNING,
    STRICTER_TEXT,
    forty_days_ago,
    seeded_facts,
)

STRICTER, LAXER = parse_policy(STRICTER_TEXT, "s"), parse_policy(LAXER_TEXT, "l")


async def _seeded(store: Store) -> datetime:
    t0 = forty_days_ago()
    recorded = seeded_facts(t0)
    await store.write(lambda c: append_facts(c, recorded, t0))
    return t0


async def test_each_case_comes_back_with_its_inputs_in_order(store: Store) -> None:
    t0 = await _seeded(store)

    histories = await store.scan(lambda c: case_histories(c, t0 - DAY))

    assert [h.key_id for h in histories] == ["key-a", "key-b", "key-c", "key-d", "key-e", "key-f"]
    c = histories[2]
    assert [r.alert.alert_id for r in c.inputs if r.alert] == ["sv-key-c-0", "sv-key-c-1"]
    assert [(r.kyc.passed, r.kyc.actor) for r in c.inputs if r.kyc] == [(True, "kyc-co")]
    [dismissal] = [r for r in histories[5].inputs if r.action]
    assert dismissal.command is not None and dismissal.command.actor == "kim"
    assert await store.scan(lambda c: count_cases(c, t0 - DAY)) == 6


async def test_the_window_and_the_exchange_narrow_the_cases(store: Store) -> None:
    t0 = await _seeded(store)

    bithumb = await store.scan(lambda c: case_histories(c, t0 - DAY, "bithumb"))
    later = await store.scan(lambda c: case_histories(c, t0 + timedelta(seconds=1)))

    assert [h.key_id for h in bithumb] == ["key-e", "key-f"]
    assert later == []


async def test_a_stricter_policy_expires_two_more_keys_and_warns_one_a_day_earlier(
    store: Store,
) -> None:
    t0 = await _seeded(store)
    histories = await store.scan(lambda c: case_histories(c, t0 - DAY))

    cases = {c.history.key_id: c for c in compare(histories, RUNNING, STRICTER, datetime.now(UTC))}

    now = {k: c.now.stage for k, c in cases.items()}
    new = {k: c.new.stage for k, c in cases.items()}
    assert now == {
        "key-a": CaseStage.CLEARED,
        "key-b": CaseStage.CLEARED,
        "key-c": CaseStage.RESTORED,
        "key-d": CaseStage.EXPIRED,
        "key-e": CaseStage.EXPIRED,
        "key-f": CaseStage.DISMISSED,
    }
    assert new == now | {"key-a": CaseStage.EXPIRED, "key-b": CaseStage.EXPIRED}
    warned_c = [s for s in cases["key-c"].shifts() if s.stage is CaseStage.WARNED]
    assert [s.shift for s in warned_c] == [-DAY]
    assert cases["key-a"].new.steps[CaseStage.EXPIRED] == t0 + 3 * DAY  # warned + 2 days
    assert not cases["key-f"].new.warned and not cases["key-f"].changed
    kinds = [k.value for _, k in cases["key-a"].new.notices]
    assert kinds == ["warning", "kyc_reminder", "expiry"]
    assert cases["key-a"].now.notices == ()


async def test_a_laxer_policy_clears_the_keys_the_running_one_expires(store: Store) -> None:
    t0 = await _seeded(store)
    histories = await store.scan(lambda c: case_histories(c, t0 - DAY))

    cases = {c.history.key_id: c for c in compare(histories, RUNNING, LAXER, datetime.now(UTC))}

    assert {k: c.new.stage for k, c in cases.items() if c.now.stage is CaseStage.EXPIRED} == {
        "key-d": CaseStage.CLEARED,
        "key-e": CaseStage.CLEARED,
    }
    assert cases["key-c"].new.stage is CaseStage.CLEARED
    assert cases["key-c"].new.not_applied == 1  # its re-verification was never asked for
    assert [c.new.warned for c in cases.values()] == [False] * 6
    assert cases["key-d"].new.steps[CaseStage.CLEARED] == t0 + timedelta(hours=1) + 3 * DAY


async def test_an_empty_store_has_nothing_to_replay(store: Store) -> None:
    histories = await store.scan(lambda c: case_histories(c, datetime(2000, 1, 1, tzinfo=UTC)))

    assert histories == []
    assert compare(histories, RUNNING, STRICTER, datetime.now(UTC)) == []
