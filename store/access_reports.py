"""Decisions a gateway client made in process, reported in batches into the access log.

    recorded = await store.write(lambda c: record_report(c, batch_id, decisions, now))

A batch is recorded once: its id is kept (`access_reports`) in the transaction that writes
its rows, so a client that resends a batch it got no answer for adds no second row.
The account of each row is the registry's, never the client's word.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from domain.detection.networks import network_of
from domain.gateway import GatewayReason
from store.access import record_access
from store.models import AccessReport, ApiKey


def record_report(
    connection: Connection, batch_id: str, decisions: list[dict[str, Any]], now: datetime
) -> bool:
    """Write the batch's rows (access-log columns but account_id); False if already recorded."""
    seen = select(AccessReport.batch_id).where(AccessReport.batch_id == batch_id)
    if connection.scalar(seen) is not None:
        return False
    key_ids = {d["key_id"] for d in decisions}
    query = select(ApiKey.key_id, ApiKey.account_id).where(ApiKey.key_id.in_(key_ids))
    owners: dict[str, str] = {
        key_id: account_id for key_id, account_id in connection.execute(query)
    }
    rows = [
        {
            **d,
            "account_id": owners.get(d["key_id"]),
            # As decide_access does for authorize's rows: detection counts networks.
            "network": None if d["reason"] == GatewayReason.INVALID_IP else network_of(d["ip"]),
        }
        for d in decisions
    ]
    record_access(connection, rows)
    connection.execute(
        insert(AccessReport).values(batch_id=batch_id, decisions=len(decisions), received_at=now)
    )
    return True
