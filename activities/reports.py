"""The `write_monthly_report` activity: one month's report into `<data_dir>/reports/`."""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio import activity

from activities.store_access import utc_now
from domain.reports.schedules import ActivityName, MonthlyActivityInput, MonthlyResult
from reports.monthly_report import write_monthly
from store.port import Store


class MonthlyReports:
    """Writes the monthly report's files; running it twice replaces them whole."""

    def __init__(
        self,
        store: Store,
        key: Ed25519PrivateKey,
        data_dir: Path,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._key = key
        self._data_dir = data_dir
        self._clock = clock

    @activity.defn(name=ActivityName.WRITE_MONTHLY_REPORT)
    async def write_monthly_report(self, request: MonthlyActivityInput) -> MonthlyResult:
        """Every language and format of `request.month`, with the chain's head anchored."""
        files = await write_monthly(
            self._store, self._key, self._data_dir, request.month, self._clock()
        )
        return MonthlyResult(month=request.month, files=files)
