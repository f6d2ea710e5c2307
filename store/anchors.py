"""The audit anchors: signed heads of the chain, in a table of their own (append-only).

    anchor = await store.write(lambda c: publish_anchor(c, sign, now))   # None: empty chain
    report = await store.scan(lambda c: verify_anchored(c, anchors, ok)) # ChainVerification

One anchor per anchored head (`chain_seq` is the key), so publishing twice while the chain
has not moved writes nothing new. The anchors file (`anchors_jsonl`) is the same rows as
JSON lines, for keeping where the database's owners cannot reach.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from sqlalchemy import BigInteger, Connection, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from domain.anchors import Anchor, AnchorCheck, check_anchors
from store.audit import AuditVerification, verify
from store.models import AuditEntry, Base, UTCDateTime, insert_into

Signer = Callable[[int, str, datetime], Anchor]  # (seq, row_hash, at) -> a signed anchor
HASH_BATCH = 500


class AuditAnchorRow(Base):
    """One signed head of the audit chain."""

    __tablename__ = "audit_anchors"

    chain_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    row_hash: Mapped[str] = mapped_column(String(64))
    anchored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(32))


class ChainVerification(AuditVerification):
    """The chain's own check and its check against the anchors; `ok` needs both."""

    anchors_checked: int = 0
    first_bad_anchor: int | None = None  # that anchor's chain_seq
    first_bad_anchored_at: datetime | None = None
    anchor_problem: str | None = None  # "forged_signature", "missing_tail" or "rewritten"


_HEAD = select(AuditEntry.seq, AuditEntry.row_hash).order_by(AuditEntry.seq.desc()).limit(1)


def chain_head(connection: Connection) -> tuple[int, str] | None:
    """The last row's (seq, row_hash), None for an empty chain."""
    row = connection.execute(_HEAD).first()
    return (row.seq, row.row_hash) if row else None


def publish_anchor(connection: Connection, sign: Signer, now: datetime) -> Anchor | None:
    """Anchor the chain's head as it is now; the existing anchor if that head has one."""
    head = chain_head(connection)
    if head is None:
        return None
    seq, row_hash = head
    existing = connection.execute(_ANCHORS.where(AuditAnchorRow.chain_seq == seq)).first()
    if existing is not None:
        return _anchor(existing)
    anchor = sign(seq, row_hash, now)
    statement = insert_into(connection.dialect.name, AuditAnchorRow).values(**anchor.model_dump())
    connection.execute(statement.on_conflict_do_nothing(index_elements=["chain_seq"]))
    return anchor


_ANCHORS = select(*AuditAnchorRow.__table__.c)


def _anchor(row: object) -> Anchor:
    return Anchor.model_validate(row, from_attributes=True)


def stored_anchors(connection: Connection) -> list[Anchor]:
    """Every anchor in the table, oldest head first."""
    return [_anchor(r) for r in connection.execute(_ANCHORS.order_by(AuditAnchorRow.chain_seq))]


def hashes_at(connection: Connection, seqs: Iterable[int]) -> dict[int, str]:
    """The chain's row hash at each of `seqs` that still exists."""
    wanted = sorted(set(seqs))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), HASH_BATCH):
        batch = wanted[start : start + HASH_BATCH]
        query = select(AuditEntry.seq, AuditEntry.row_hash).where(AuditEntry.seq.in_(batch))
        found.update({row.seq: row.row_hash for row in connection.execute(query)})
    return found


def check_against(
    connection: Connection, anchors: Sequence[Anchor], signature_ok: Callable[[Anchor], bool]
) -> AnchorCheck:
    """The chain as stored against these anchors (see `domain.anchors.check_anchors`)."""
    return check_anchors(
        anchors, hashes_at(connection, [a.chain_seq for a in anchors]), signature_ok
    )


def verify_anchored(
    connection: Connection,
    signature_ok: Callable[[Anchor], bool],
    anchors: Sequence[Anchor] | None = None,
) -> ChainVerification:
    """`verify` the chain, then check it against `anchors` (default: the anchors table)."""
    chain = verify(connection)
    check = check_against(
        connection, stored_anchors(connection) if anchors is None else anchors, signature_ok
    )
    return ChainVerification(
        **chain.model_dump(exclude={"ok"}),
        ok=chain.ok and check.ok,
        anchors_checked=check.anchors_checked,
        first_bad_anchor=check.first_bad_anchor,
        first_bad_anchored_at=check.first_bad_anchored_at,
        anchor_problem=check.problem.value if check.problem else None,
    )


def anchors_jsonl(anchors: Iterable[Anchor]) -> str:
    """The anchors file: one anchor per line, as JSON."""
    return "".join(anchor.model_dump_json() + "\n" for anchor in anchors)


def parse_anchors_jsonl(text: str) -> list[Anchor]:
    """Read an anchors file; raises ValueError naming the first bad line."""
    anchors: list[Anchor] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            anchors.append(Anchor.model_validate_json(line))
        except ValueError as error:
            raise ValueError(f"anchors file line {number}: {error}") from None
    return anchors
