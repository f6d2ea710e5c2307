"""Alert intake: which case each surveillance alert id went to, so repeats are recognised.

An alert id is first *claimed* (a row without a case), then *settled* with the case it
joined. The claim makes one request the only one that hands a given alert to Temporal;
concurrent deliveries of the same id wait for it to settle and answer with its case.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Delete, Select, String, Update, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.dml import ReturningInsert

from domain.intake import KeyOwner
from store.access import key_view
from store.models import Base, UTCDateTime, insert_into


class AlertIntakeRow(Base):
    """One received alert id and the case it joined (None while being handed over)."""

    __tablename__ = "alert_intake"

    alert_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(100), index=True)
    case_id: Mapped[str | None] = mapped_column(String(200), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class IntakeRecord:
    """What the intake knows about one alert id."""

    alert_id: str
    key_id: str
    case_id: str | None  # None: claimed, not yet settled
    received_at: datetime


# Built per call, spelled alike on both backends (ON CONFLICT ... RETURNING).
def _find(alert_id: str) -> Select[str, str, str | None, datetime]:
    row = AlertIntakeRow
    return select(row.alert_id, row.key_id, row.case_id, row.received_at).where(
        row.alert_id == alert_id
    )


def _claim(dialect: str, alert_id: str, key_id: str, now: datetime) -> ReturningInsert[str]:
    return (
        insert_into(dialect, AlertIntakeRow)
        .values(alert_id=alert_id, key_id=key_id, case_id=None, received_at=now)
        .on_conflict_do_nothing()
        .returning(AlertIntakeRow.alert_id)
    )


def _settle(
    dialect: str, alert_id: str, key_id: str, case_id: str, now: datetime
) -> ReturningInsert[datetime]:
    statement = insert_into(dialect, AlertIntakeRow).values(
        alert_id=alert_id, key_id=key_id, case_id=case_id, received_at=now
    )
    return statement.on_conflict_do_update(
        index_elements=[AlertIntakeRow.alert_id],
        set_={"case_id": statement.excluded.case_id},
        where=AlertIntakeRow.case_id.is_(None),
    ).returning(AlertIntakeRow.received_at)


def _take_over(alert_id: str, claimed_before: datetime, now: datetime) -> Update:
    row = AlertIntakeRow
    return (
        update(row)
        .where(row.alert_id == alert_id, row.case_id.is_(None), row.received_at < claimed_before)
        .values(received_at=now)
        .returning(row.alert_id)
    )


def _release(alert_id: str) -> Delete:
    row = AlertIntakeRow
    return delete(row).where(row.alert_id == alert_id, row.case_id.is_(None))


class AlertIntake:
    """Operations on `alert_intake` on a connection; the caller owns the transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._dialect = connection.dialect.name

    def find(self, alert_id: str) -> IntakeRecord | None:
        """The record of an alert id already received, if any."""
        row = self._connection.execute(_find(alert_id)).first()
        return IntakeRecord(*row) if row else None

    def key_owner(self, key_id: str) -> KeyOwner | None:
        """The registered key's owner and status, or None."""
        key = key_view(self._connection, key_id)
        return KeyOwner(key.account_id, key.exchange, key.status) if key else None

    def claim(self, alert_id: str, key_id: str, now: datetime) -> tuple[IntakeRecord | None, bool]:
        """Claim an alert id: (None, True) when this call claimed it, else (its record, False)."""
        if self._connection.execute(_claim(self._dialect, alert_id, key_id, now)).first():
            return None, True
        return self.find(alert_id), False

    def take_over(self, alert_id: str, claimed_before: datetime, now: datetime) -> bool:
        """Take a claim whose holder gave no news since `claimed_before` (it likely died)."""
        taken = self._connection.execute(_take_over(alert_id, claimed_before, now))
        return taken.scalar_one_or_none() is not None

    def settle(self, alert_id: str, key_id: str, case_id: str, now: datetime) -> IntakeRecord:
        """Record the case of a claimed alert id; a settled id keeps its first case.

        Written as an upsert: a claim taken over and released meanwhile is simply redone.
        """
        settled = self._connection.execute(_settle(self._dialect, alert_id, key_id, case_id, now))
        received_at = settled.scalar_one_or_none()
        if received_at is not None:
            return IntakeRecord(alert_id, key_id, case_id, received_at)
        record = self.find(alert_id)  # settled before, by another delivery
        assert record is not None  # settled rows are never deleted
        return record

    def release(self, alert_id: str) -> None:
        """Give up an unsettled claim, so that a retry of the alert can go through."""
        self._connection.execute(_release(alert_id))
