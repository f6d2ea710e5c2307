"""Alert intake: which case each surveillance alert id went to, so repeats are recognised."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, UTCDateTime


class AlertIntakeRow(Base):
    """One received alert id and the case it joined (first delivery wins)."""

    __tablename__ = "alert_intake"

    alert_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(100), index=True)
    case_id: Mapped[str] = mapped_column(String(200), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class IntakeRecord:
    """What the intake knows about one alert id."""

    alert_id: str
    key_id: str
    case_id: str
    received_at: datetime


class AlertIntake:
    """Repository over `alert_intake`; the caller owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(self, alert_id: str) -> IntakeRecord | None:
        """The record of an alert id already received, if any."""
        row = await self._session.get(AlertIntakeRow, alert_id)
        return _record(row) if row else None

    async def record(
        self, alert_id: str, key_id: str, case_id: str, received_at: datetime
    ) -> tuple[IntakeRecord, bool]:
        """Record an alert id; returns the stored record and whether this call wrote it.

        A concurrent delivery of the same id loses the insert race and gets the
        winner's record back, so both report the same case.
        """
        values = {
            "alert_id": alert_id,
            "key_id": key_id,
            "case_id": case_id,
            "received_at": received_at,
        }
        dialect = self._session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(AlertIntakeRow).values(**values).on_conflict_do_nothing()
        result = await self._session.execute(statement.returning(AlertIntakeRow.alert_id))
        written = result.scalar_one_or_none() is not None
        stored = await self._session.scalar(
            select(AlertIntakeRow)
            .where(AlertIntakeRow.alert_id == alert_id)
            .execution_options(populate_existing=True)
        )
        assert stored is not None  # inserted above or by the delivery that won
        return _record(stored), written


def _record(row: AlertIntakeRow) -> IntakeRecord:
    return IntakeRecord(
        alert_id=row.alert_id,
        key_id=row.key_id,
        case_id=row.case_id,
        received_at=row.received_at,
    )
