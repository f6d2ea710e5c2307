"""Who owns which keys, read in one statement: what detector hits need to become alerts."""

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import Connection, select

from store.models import ApiKey


class Owner(NamedTuple):
    account_id: str
    exchange: str


def owners_of(connection: Connection, key_ids: Iterable[str]) -> dict[str, Owner]:
    """The registered keys among `key_ids`, with their account and exchange."""
    wanted = sorted(set(key_ids))
    if not wanted:
        return {}
    rows = connection.execute(
        select(ApiKey.key_id, ApiKey.account_id, ApiKey.exchange).where(ApiKey.key_id.in_(wanted))
    )
    return {key_id: Owner(account_id, exchange) for key_id, account_id, exchange in rows}
