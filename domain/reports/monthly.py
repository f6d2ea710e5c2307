"""The monthly report's figures, from the month's cases as their audit rows tell them.

Pure: the store streams each case's events in (`CaseEvent`), `summarise` folds them into
one `CaseSummary` per case, and `monthly_figures` counts. A case belongs to the month it
was opened in (KST); its outcome is where it stands when the report is made.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from statistics import median
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from domain.reports import wording
from domain.reports.case_pack import ChainProof
from domain.reports.charts import BarChart, Series
from domain.reports.kst import KST, duration_words, kst, month_bounds

OUTCOMES = ("EXPIRED", "RESTORED", "DISMISSED", "CLEARED", "OPEN")
SURVEILLANCE = "surveillance"  # the source of alerts that no detector raised
# Time-to-act buckets: (upper bound, ko label, en label).
BUCKETS: tuple[tuple[timedelta | None, str, str], ...] = (
    (timedelta(hours=1), "1시간 미만", "< 1 h"),
    (timedelta(hours=6), "1-6시간", "1-6 h"),
    (timedelta(days=1), "6-24시간", "6-24 h"),
    (timedelta(days=3), "1-3일", "1-3 d"),
    (timedelta(days=7), "3-7일", "3-7 d"),
    (None, "7일 이상", "≥ 7 d"),
)


class CaseEvent(NamedTuple):
    """One audit row of a case, as much of it as the figures need."""

    case_id: str
    event_type: str
    occurred_at: datetime
    actor: str
    payload: dict[str, Any]


class NoticeOutcome(NamedTuple):
    """One notice on one channel and its final word (from the outbox)."""

    case_id: str
    channel: str
    status: str
    accepted: bool  # a provider took it (it has a provider message id)


class CaseSummary(BaseModel):
    """What the month's figures need to know about one case."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    exchange: str
    kind: str
    severity: str
    source: str
    opened_at: datetime
    alert_at: datetime
    monitoring_at: datetime | None = None
    warned_at: datetime | None = None
    expired_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str = "OPEN"


def _instant(value: Any, default: datetime) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return default
    return default


def summarise(events: Sequence[CaseEvent]) -> CaseSummary | None:
    """The case's summary; None if it has no `case.opened` row (not a case of ours)."""
    opened = next((e for e in events if e.event_type == "case.opened"), None)
    if opened is None:
        return None
    alert = next((e for e in events if e.event_type == "alert.received"), None)
    p = alert.payload if alert else {}
    evidence = p.get("evidence") if isinstance(p.get("evidence"), dict) else {}
    detector = evidence.get("detector") if isinstance(evidence, dict) else None
    stages: dict[str, datetime] = {}
    for e in events:
        if e.event_type == "stage.changed":
            stages.setdefault(str(e.payload.get("stage")), e.occurred_at)
    expired = next(
        (
            e.occurred_at
            for e in events
            if e.event_type == "key.status_changed" and e.payload.get("to") == "EXPIRED"
        ),
        stages.get("EXPIRED"),
    )
    closed = next((e for e in events if e.event_type == "case.closed"), None)
    outcome = str(closed.payload.get("stage")) if closed else "OPEN"
    return CaseSummary(
        case_id=opened.case_id,
        exchange=str(opened.payload.get("exchange")),
        kind=str(p.get("kind", "other")),
        severity=str(p.get("severity", "medium")),
        source=str(detector) if detector else SURVEILLANCE,
        opened_at=opened.occurred_at,
        alert_at=_instant(p.get("observed_at"), alert.occurred_at if alert else opened.occurred_at),
        monitoring_at=stages.get("MONITORING"),
        warned_at=stages.get("WARNED"),
        expired_at=expired,
        closed_at=closed.occurred_at if closed else None,
        outcome=outcome if outcome in OUTCOMES else "OPEN",
    )


def summarise_all(events: Iterable[CaseEvent]) -> list[CaseSummary]:
    """One summary per case of a stream ordered by case (then chain order)."""
    summaries: list[CaseSummary] = []
    current: list[CaseEvent] = []
    for event in events:
        if current and event.case_id != current[0].case_id:
            if (summary := summarise(current)) is not None:
                summaries.append(summary)
            current = []
        current.append(event)
    if current and (summary := summarise(current)) is not None:
        summaries.append(summary)
    return summaries


class Row(BaseModel):
    """One line of a figure table: its dimensions and its numbers."""

    model_config = ConfigDict(frozen=True)

    keys: list[str]
    values: list[str]


class Table(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # stable id (CSV "section")
    title: str
    headers: list[str]
    rows: list[Row]


class MonthlyFigures(BaseModel):
    """The month in numbers, words and charts, in one language."""

    model_config = ConfigDict(frozen=True)

    lang: str
    month: str
    exchange: str | None
    generated_at: str
    cases_opened: int
    tables: list[Table]
    charts: list[BarChart]
    proof: ChainProof

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def _p90(values: list[timedelta]) -> timedelta:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered) + 0.5) - 1 if ordered else 0)]


def _stat(values: list[timedelta], lang: str) -> tuple[str, str, str]:
    if not values:
        return "0", "—", "—"
    middle = timedelta(seconds=median(v.total_seconds() for v in values))
    return str(len(values)), duration_words(middle, lang), duration_words(_p90(values), lang)


def _opened(cases: list[CaseSummary], lang: str) -> Table:
    counts = Counter((c.exchange, c.kind, c.severity) for c in cases)
    order = list(wording.SEVERITY_ORDER)
    rows = [
        Row(keys=[ex, wording.kind(k, lang), wording.severity(s, lang)], values=[str(n)])
        for (ex, k, s), n in sorted(
            counts.items(),
            key=lambda i: (i[0][0], i[0][1], order.index(i[0][2]) if i[0][2] in order else 9),
        )
    ]
    L = wording.label
    return Table(
        name="opened",
        title=L("m_opened", lang),
        headers=[L("exchange", lang), L("m_kind", lang), L("m_severity", lang), L("count", lang)],
        rows=rows,
    )


def _by_detector(cases: list[CaseSummary], lang: str) -> Table:
    counts = Counter(c.source for c in cases)
    dismissed = Counter(c.source for c in cases if c.outcome == "DISMISSED")
    L = wording.label
    rows = []
    for source, n in sorted(counts.items()):
        rate = 100 * dismissed[source] / n
        name = L("m_surveillance", lang) if source == SURVEILLANCE else source
        rows.append(Row(keys=[name], values=[str(n), str(dismissed[source]), f"{rate:.1f}%"]))
    return Table(
        name="by_source",
        title=L("m_by_source", lang),
        headers=[
            L("source", lang),
            L("m_cases", lang),
            L("m_dismissed", lang),
            L("m_fp_rate", lang),
        ],
        rows=rows,
    )


def _outcomes(cases: list[CaseSummary], as_of: datetime, lang: str) -> Table:
    ages: dict[str, list[timedelta]] = defaultdict(list)
    for c in cases:
        ages[c.outcome].append((c.closed_at or as_of) - c.opened_at)
    L = wording.label
    rows = []
    for outcome in OUTCOMES:
        values = ages.get(outcome, [])
        name = L("still_open", lang) if outcome == "OPEN" else wording.stage(outcome, lang)
        oldest = duration_words(max(values), lang) if values else "—"
        rows.append(Row(keys=[name], values=[str(len(values)), _stat(values, lang)[1], oldest]))
    return Table(
        name="outcomes",
        title=L("m_outcomes", lang),
        headers=[
            L("m_outcome", lang),
            L("m_cases", lang),
            L("m_median_age", lang),
            L("m_oldest", lang),
        ],
        rows=rows,
    )


def _time_to_act(cases: list[CaseSummary], lang: str) -> Table:
    L = wording.label
    steps = (
        ("m_to_monitoring", [c.monitoring_at - c.alert_at for c in cases if c.monitoring_at]),
        ("m_to_warning", [c.warned_at - c.alert_at for c in cases if c.warned_at]),
        ("m_to_expiry", [c.expired_at - c.alert_at for c in cases if c.expired_at]),
    )
    return Table(
        name="time_to_act",
        title=L("m_time_to_act", lang),
        headers=[L("m_step", lang), L("m_cases", lang), L("m_median", lang), "p90"],
        rows=[
            Row(keys=[L(name, lang)], values=list(_stat(values, lang))) for name, values in steps
        ],
    )


def _notices(outcomes: Sequence[NoticeOutcome], lang: str) -> Table:
    sent: Counter[str] = Counter()
    delivered: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for n in outcomes:
        if n.accepted:
            sent[n.channel] += 1
        if n.status == "delivered":
            delivered[n.channel] += 1
        if n.status == "failed":
            failed[n.channel] += 1
    L = wording.label
    return Table(
        name="notices",
        title=L("m_notices", lang),
        headers=[
            L("channel", lang),
            L("m_sent", lang),
            L("m_delivered", lang),
            L("m_failed", lang),
        ],
        rows=[
            Row(
                keys=[wording.channel(ch, lang)],
                values=[str(sent[ch]), str(delivered[ch]), str(failed[ch])],
            )
            for ch in ("email", "sms")
        ],
    )


def _key_changes(changes: Sequence[tuple[str, str]], lang: str) -> Table:
    counts = Counter(changes)
    L = wording.label
    return Table(
        name="key_changes",
        title=L("m_key_changes", lang),
        headers=[L("m_from", lang), L("m_to", lang), L("count", lang)],
        rows=[Row(keys=[a, b], values=[str(n)]) for (a, b), n in sorted(counts.items())],
    )


def _weeks(month: str) -> list[tuple[datetime, datetime]]:
    """The month cut at Mondays (KST): the first and last weeks may be short."""
    start, end = (b.astimezone(KST) for b in month_bounds(month))
    weeks: list[tuple[datetime, datetime]] = []
    cursor = start
    while cursor < end:
        monday = (cursor + timedelta(days=7 - cursor.weekday())).replace(hour=0, minute=0)
        weeks.append((cursor, min(monday, end)))
        cursor = min(monday, end)
    return weeks


def _weekly_chart(cases: list[CaseSummary], month: str, lang: str) -> BarChart:
    weeks = _weeks(month)
    names = [f"{a:%m/%d}~{(b - timedelta(seconds=1)):%m/%d}" for a, b in weeks]
    series = []
    for outcome in OUTCOMES:
        values = [
            sum(1 for c in cases if c.outcome == outcome and a <= c.opened_at < b) for a, b in weeks
        ]
        name = (
            wording.label("still_open", lang) if outcome == "OPEN" else wording.stage(outcome, lang)
        )
        series.append(Series(name=name, values=values))
    return BarChart(title=wording.label("m_chart_weeks", lang), categories=names, series=series)


def _bucket(delta: timedelta) -> int:
    for index, (bound, _, _) in enumerate(BUCKETS):
        if bound is None or delta < bound:
            return index
    return len(BUCKETS) - 1


def _time_chart(cases: list[CaseSummary], lang: str) -> BarChart:
    names = [ko if lang == "ko" else en for _, ko, en in BUCKETS]
    series = []
    for label, picks in (
        ("m_to_warning", [c.warned_at - c.alert_at for c in cases if c.warned_at]),
        ("m_to_expiry", [c.expired_at - c.alert_at for c in cases if c.expired_at]),
    ):
        values = [0] * len(BUCKETS)
        for delta in picks:
            values[_bucket(delta)] += 1
        series.append(Series(name=wording.label(label, lang), values=values))
    title = wording.label("m_chart_time", lang)
    return BarChart(title=title, categories=names, series=series, stacked=False)


def monthly_figures(
    month: str,
    cases: Sequence[CaseSummary],
    notices: Sequence[NoticeOutcome],
    key_changes: Sequence[tuple[str, str]],
    proof: ChainProof,
    as_of: datetime,
    exchange: str | None = None,
    lang: str = "ko",
) -> MonthlyFigures:
    """The month's figures for `exchange` (or every exchange); cases outside it are ignored.

    `key_changes` are (from, to) of the key-status changes made in the month."""
    start, end = month_bounds(month)
    chosen = [
        c
        for c in cases
        if start <= c.opened_at < end and (exchange is None or c.exchange == exchange)
    ]
    ids = {c.case_id for c in chosen}
    return MonthlyFigures(
        lang=lang,
        month=month,
        exchange=exchange,
        generated_at=kst(as_of),
        cases_opened=len(chosen),
        tables=[
            _opened(chosen, lang),
            _by_detector(chosen, lang),
            _outcomes(chosen, as_of, lang),
            _time_to_act(chosen, lang),
            _notices([n for n in notices if n.case_id in ids], lang),
            _key_changes(key_changes, lang),
        ],
        charts=[_weekly_chart(chosen, month, lang), _time_chart(chosen, lang)],
        proof=proof,
    )
