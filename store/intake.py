"""Alert intake: which case each surveillance alert id went to, so repeats are recognised.

An alert id is first *claimed* (a row without a case), then *settled* with the case it
joined. The claim makes one request the only one that hands a given alert to Temporal;
concurrent deliveries of the same id wait for it to settle and answer with its case.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, delete, select, update
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, UTCDateTime


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


class AlertIntake:
    """Repository over `alert_intake`; the caller owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(self, alert_id: str) -> IntakeRecord | None:
        """The record of an alert id already received, if any."""
        row = (
            await self._session.execute(
                select(
                    AlertIntakeRow.alert_id,
                    AlertIntakeRow.key_id,
                    AlertIntakeRow.case_id,
                    AlertIntakeRow.received_at,
                ).where(AlertIntakeRow.alert_id == alert_id)
            )
        ).first()
        return IntakeRecord(*row) if row else None

    async def claim(
        self, alert_id: str, key_id: str, now: datetime
    ) -> tuple[IntakeRecord | None, bool]:
        """Claim an alert id: (None, True) when this call claimed it, else (its record, False)."""
        statement = (
            self._insert()
            .values(alert_id=alert_id, key_id=key_id, case_id=None, received_at=now)
            .on_conflict_do_nothing()
            .returning(AlertIntakeRow.alert_id)
        )
        if (await self._session.execute(statement)).scalar_one_or_none() is not None:
            return None, True
        return await self.find(alert_id), False

    async def take_over(self, alert_id: str, claimed_before: datetime, now: datetime) -> bool:
        """Take a claim whose holder gave no news since `claimed_before` (it likely died)."""
        result = await self._session.execute(
            update(AlertIntakeRow)
            .where(
                AlertIntakeRow.alert_id == alert_id,
                AlertIntakeRow.case_id.is_(None),
                AlertIntakeRow.received_at < claimed_before,
            )
            .values(received_at=now)
            .returning(AlertIntakeRow.alert_id)
        )
        return result.scalar_one_or_none() is not None

    async def settle(self, alert_id: str, key_id: str, case_id: str, now: datetime) -> IntakeRecord:
        """Record the case of a claimed alert id; a settled id keeps its first case.

        Written as an upsert: a claim taken over and released meanwhile is simply redone.
        """
        statement = self._insert().values(
            alert_id=alert_id, key_id=key_id, case_id=case_id, received_at=now
        )
        settled = await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[AlertIntakeRow.alert_id],
                set_={"case_id": statement.excluded.case_id},
                where=AlertIntakeRow.case_id.is_(None),
            ).returning(AlertIntakeRow.received_at)
        )
        received_at = settled.scalar_one_or_none()
        if received_at is not None:
            return IntakeRecord(alert_id, key_id, case_id, received_at)
        record = await self.find(alert_id)  # settled before, by another delivery
        assert record is not None  # settled rows are never deleted
        return record

    def _insert(self) -> PgInsert | SqliteInsert:
        # ON CONFLICT is spelled the same on both backends, but built per dialect.
        if self._session.get_bind().dialect.name == "postgresql":
            return pg_insert(AlertIntakeRow)
        return sqlite_insert(AlertIntakeRow)

    async def release(self, alert_id: str) -> None:
        """Give up an unsettled claim, so that a retry of the alert can go through."""
        await self._session.execute(
            delete(AlertIntakeRow).where(
                AlertIntakeRow.alert_id == alert_id, AlertIntakeRow.case_id.is_(None)
            )
        )
