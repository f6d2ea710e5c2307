"""Times as Korean regulators read them: KST (UTC+9, no daylight saving), to the second."""

from datetime import UTC, date, datetime, timedelta, timezone

KST = timezone(timedelta(hours=9), "KST")


def kst(at: datetime | None) -> str:
    """`2026-11-03 14:05:09 KST`; an empty string for None."""
    if at is None:
        return ""
    return at.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S KST")


def kst_date(at: datetime) -> date:
    """The calendar day in Korea."""
    return at.astimezone(KST).date()


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """`2026-11` → the month's first instant and the next month's, both in KST (as UTC)."""
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=KST)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=KST)
    return start.astimezone(UTC), end.astimezone(UTC)


def previous_month(at: datetime) -> str:
    """The month before the one `at` falls in, in KST: what the 1st's report covers."""
    first = at.astimezone(KST).date().replace(day=1)
    last = first - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def duration_words(delta: timedelta, lang: str) -> str:
    """`3일 4시간` / `3 d 4 h`: days and hours, or minutes under an hour."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    units = ("일", "시간", "분") if lang == "ko" else (" d", " h", " min")
    if days:
        return f"{days}{units[0]} {hours}{units[1]}"
    if hours:
        return f"{hours}{units[1]} {mins}{units[2]}"
    return f"{mins}{units[2]}"
