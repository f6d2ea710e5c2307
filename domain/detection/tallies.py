"""The detectors' input: per-slice counts of the access log, as the store's aggregates hold them."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Tally:
    """One key's requests in one slice of a window, from one network or one origin."""

    slice: int
    key_id: str
    account_id: str | None  # None: a key the registry does not know
    facet: str  # the /24 or /48 network, or the origin ("ip:…" / "tls:…")
    hits: int
    first_id: int  # the access-log rows it counts, by id and time
    last_id: int
    first_at: datetime
    last_at: datetime
    denied: int = 0


def by_slice(
    tallies: Iterable[Tally], subject: Callable[[Tally], str]
) -> dict[str, dict[int, list[Tally]]]:
    """Tallies grouped by subject, then by slice."""
    grouped: dict[str, dict[int, list[Tally]]] = defaultdict(lambda: defaultdict(list))
    for tally in tallies:
        grouped[subject(tally)][tally.slice].append(tally)
    return grouped


def hitting(
    slices: dict[int, list[Tally]], windows: range, hit: Callable[[list[Tally]], bool]
) -> Iterator[tuple[int, list[Tally], list[Tally]]]:
    """(window, its tallies, the previous window's if that hit too) for each window that hits.

    A hit whose previous window hit the same subject continues the same episode: the
    detectors report it once, for the window where it began."""
    candidates = sorted({k for s in slices for k in (s - 1, s) if k in windows})
    for k in candidates:
        inside = slices.get(k, []) + slices.get(k + 1, [])
        if not hit(inside):
            continue
        before = slices.get(k - 1, []) + slices.get(k, [])
        yield k, inside, before if hit(before) else []
