"""Key status transitions and what each status leaves of the granted permissions."""

import pytest

from domain.activity_io import KeyMeasure
from domain.keys import KeyStatus, Permission
from domain.registry import status_after, usable_permissions

S, M = KeyStatus, KeyMeasure  # short names keep the table of transitions readable


@pytest.mark.parametrize(
    ("current", "measure", "expected"),
    [
        (S.ACTIVE, M.MONITOR, S.MONITORED),
        (S.MONITORED, M.MONITOR, S.MONITORED),
        (S.RESTRICTED, M.MONITOR, S.RESTRICTED),  # monitoring never loosens a restriction
        (S.MONITORED, M.UNFLAG, S.ACTIVE),
        (S.RESTRICTED, M.UNFLAG, S.ACTIVE),
        (S.ACTIVE, M.RESTRICT, S.RESTRICTED),
        (S.MONITORED, M.RESTRICT, S.RESTRICTED),
        (S.RESTRICTED, M.RESTORE, S.ACTIVE),
        (S.MONITORED, M.RESTORE, S.ACTIVE),
        (S.ACTIVE, M.EXPIRE, S.EXPIRED),
        (S.RESTRICTED, M.EXPIRE, S.EXPIRED),
    ],
)
def test_measures_move_the_status(
    current: KeyStatus, measure: KeyMeasure, expected: KeyStatus
) -> None:
    assert status_after(current, measure) is expected


@pytest.mark.parametrize("measure", list(KeyMeasure))
def test_nothing_leaves_expired(measure: KeyMeasure) -> None:
    assert status_after(S.EXPIRED, measure) is S.EXPIRED


def test_usable_permissions_follow_the_status() -> None:
    granted = [Permission.WITHDRAW, Permission.READ, Permission.TRADE]
    everything = [Permission.READ, Permission.TRADE, Permission.WITHDRAW]
    assert usable_permissions(granted, S.ACTIVE) == everything
    assert usable_permissions(granted, S.MONITORED) == everything
    assert usable_permissions(granted, S.RESTRICTED) == [Permission.READ]
    assert usable_permissions(granted, S.EXPIRED) == []
    assert usable_permissions([Permission.TRADE], S.RESTRICTED) == []
