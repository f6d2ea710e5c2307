"""What the reports read: a case's rows and notices, and the proof of the chain at export.

    rows, copies = await store.scan(lambda c: case_facts(c, case_id))
    proof = await store.scan(lambda c: chain_proof(c, anchor, signature_ok))

Long reads go through `Store.scan` (the engine's own connection, off the write path) and
page through the audit log in batches, so a case with thousands of rows is read whole.
"""

from collections.abc import Callable, Iterator

from sqlalchemy import Connection

from domain.anchors import Anchor
from domain.reports.case_pack import ChainProof, ChainRow, NoticeCopy
from store.anchors import verify_anchored
from store.audit import AuditRecord, audit_rows
from store.outbox import NotificationOutbox

PAGE = 1000


def each_row(connection: Connection, *, case_id: str, page: int = PAGE) -> Iterator[AuditRecord]:
    """Every audit row of the case, in chain order, read `page` rows at a time."""
    after = 0
    while True:
        batch = audit_rows(connection, case_id=case_id, after_seq=after, limit=page)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].seq


def case_facts(connection: Connection, case_id: str) -> tuple[list[ChainRow], list[NoticeCopy]]:
    """The case's audit rows (all of them) and its notices as the outbox kept them."""
    rows = [ChainRow.model_validate(r.model_dump()) for r in each_row(connection, case_id=case_id)]
    copies = [
        NoticeCopy(
            notice_id=entry.notice_id,
            channel=entry.channel.value,
            status=entry.status.value,
            provider=entry.provider,
            provider_message_id=entry.provider_message_id,
            attempts=entry.attempts,
            last_attempt_at=entry.last_attempt_at,
            subject=entry.subject,
            body=entry.body,
        )
        for entry in NotificationOutbox(connection).for_case(case_id)
    ]
    return rows, copies


def chain_proof(
    connection: Connection, anchor: Anchor | None, signature_ok: Callable[[Anchor], bool]
) -> ChainProof:
    """The whole chain verified against its anchors, with the head anchored for this export."""
    result = verify_anchored(connection, signature_ok)
    return ChainProof(
        head_seq=anchor.chain_seq if anchor else None,
        head_hash=anchor.row_hash if anchor else None,
        anchor=anchor,
        ok=result.ok,
        rows_checked=result.rows_checked,
        first_bad_row=result.first_bad_row,
        problem=result.problem,
        anchors_checked=result.anchors_checked,
        first_bad_anchor=result.first_bad_anchor,
        anchor_problem=result.anchor_problem,
    )
