"""Hopping windows: each detector's window, starting every half window, aligned to the epoch.

Window k covers slices k and k+1, a slice being half a window, so any burst no longer than
half a window lies whole inside one window. Overlapping windows would report one burst twice;
a hit counts only where the window before it did not hit the same subject (one alert per
episode), which keeps the ids deterministic: a function of the rows alone.
"""

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slice_seconds(window: timedelta) -> int:
    """The hop (half the window) in whole seconds."""
    return int(window.total_seconds()) // 2


def slice_of(moment: datetime, window: timedelta) -> int:
    """The index of the slice holding `moment`."""
    return int((moment - EPOCH).total_seconds()) // slice_seconds(window)


def window_start(k: int, window: timedelta) -> datetime:
    """When window k (slices k and k+1) begins."""
    return EPOCH + timedelta(seconds=k * slice_seconds(window))


def windows_touching(first: datetime, last: datetime, window: timedelta) -> range:
    """The windows that hold any moment of [first, last]."""
    return range(slice_of(first, window) - 1, slice_of(last, window) + 1)
