"""The counting step's grouping done two ways, nothing written back: by Polars on rows
fetched out of the store, and by the store's own GROUP BY in place (README "Detection")."""

import time

from sqlalchemy import Engine, func, select

from store.detection import tally_queries
from store.models import AccessLogEntry


def polars_grouping(engine: Engine) -> tuple[int, float]:
    """(groups, seconds) of the grouping done by Polars on rows fetched out of the store."""
    import polars as pl

    columns = [
        "id",
        "key_id",
        "account_id",
        "network",
        "reason",
        "decided_at",
        "ip",
        "tls_fingerprint",
    ]

    def work() -> int:
        with engine.connect() as c:
            fetched = c.execute(select(*(AccessLogEntry.__table__.c[n] for n in columns))).all()
        frame = pl.DataFrame([tuple(r) for r in fetched], schema=columns, orient="row")
        frame = frame.with_columns(pl.col("decided_at").dt.epoch("s").alias("epoch"))
        aggregates = [
            pl.len().alias("hits"),
            pl.col("id").min().alias("first_id"),
            pl.col("id").max().alias("last_id"),
            pl.col("decided_at").min().alias("first_at"),
            pl.col("decided_at").max().alias("last_at"),
        ]
        per_key = (
            frame.filter(pl.col("network").is_not_null())
            .group_by((pl.col("epoch") // 60).alias("bucket"), "key_id", "network", "reason")
            .agg(aggregates)
        )
        per_ip = frame.group_by((pl.col("epoch") // 600).alias("bucket"), "ip", "key_id").agg(
            aggregates
        )
        per_tls = (
            frame.filter(pl.col("tls_fingerprint").is_not_null())
            .group_by((pl.col("epoch") // 600).alias("bucket"), "tls_fingerprint", "key_id")
            .agg(aggregates)
        )
        return per_key.height + per_ip.height + per_tls.height

    started = time.perf_counter()
    groups = work()
    return groups, time.perf_counter() - started


def sql_grouping(engine: Engine) -> int:
    """The counting step's GROUP BY queries run in the store, only their sizes fetched."""
    with engine.connect() as c:
        return sum(
            c.execute(select(func.count()).select_from(q.subquery())).scalar() or 0
            for _, _, q in tally_queries(0, 2**62)
        )
