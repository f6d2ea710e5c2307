"""The audit log: a case's rows with their hashes, and verification of the whole chain."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.case_runs import parse_case_id
from api.deps import AnchorKey, Auditor, Reader, StoreDep
from api.schemas import SQL_INT_MAX
from api.scope import ScopedCaseId
from config.signing import signature_checker
from domain.audit_events import AuditRecord
from store.anchors import ChainVerification, verify_anchored
from store.audit import audit_rows

router = APIRouter(tags=["audit"])


@router.get("/v1/cases/{case_id}/audit", response_model=list[AuditRecord])
async def case_audit(
    case_id: ScopedCaseId,
    caller: Reader,
    store: StoreDep,
    after_seq: Annotated[int, Query(ge=0, le=SQL_INT_MAX, description="page on from this row")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[AuditRecord]:
    """The case's audit rows in chain order, each with its own and its predecessor's hash."""
    parse_case_id(case_id)  # a malformed id is 404, like an unknown case
    return await store.read(
        lambda c: audit_rows(c, case_id=case_id, after_seq=after_seq, limit=limit)
    )


@router.get("/v1/audit/verify", response_model=ChainVerification)
async def verify_chain(caller: Auditor, store: StoreDep, key: AnchorKey) -> ChainVerification:
    """Recompute every hash of the chain, then check it against every stored anchor.

    `first_bad_row` names the first row that fails; `first_bad_anchor` the first anchor
    (by its `chain_seq`) that is forged or no longer matches: a cut tail or a rewrite."""
    ok = signature_checker(key.public_key())
    return await store.scan(lambda c: verify_anchored(c, ok))
