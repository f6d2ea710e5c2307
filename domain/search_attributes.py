"""The case's search attributes in the Temporal UI, defined once for workflow, API and servers.

Only ids, stages and times: no e-mail, phone number or secret ever goes here. The dev
server's SQLite store allows about 10 Keyword and 3 of each other type. The keys are
Temporal's own value types (no I/O), so the workflow and the API's queries share them.
"""

from typing import Any

from temporalio.common import SearchAttributeKey

KEY_ID = SearchAttributeKey.for_keyword("KeyId")
CASE_ID = SearchAttributeKey.for_keyword("CaseId")
EXCHANGE = SearchAttributeKey.for_keyword("Exchange")
CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
SEVERITY = SearchAttributeKey.for_keyword("Severity")
ASSIGNED_TO = SearchAttributeKey.for_keyword("AssignedTo")
# The action (dismiss, expire_now) waiting for a second officer; unset once decided.
PENDING_APPROVAL = SearchAttributeKey.for_keyword("PendingApproval")
KYC_DEADLINE = SearchAttributeKey.for_datetime("KycDeadline")
# On detection sweeps: `DetectorHits > 0` lists those that found any.
DETECTOR_HITS = SearchAttributeKey.for_int("DetectorHits")
# On rings and their member cases: `RingId="ring-…"` lists the ring and every case in it.
RING_ID = SearchAttributeKey.for_keyword("RingId")
# On rings: the accounts in the ring (`RingSize >= 3`).
RING_SIZE = SearchAttributeKey.for_int("RingSize")

ALL: tuple[SearchAttributeKey[Any], ...] = (
    KEY_ID,
    CASE_ID,
    EXCHANGE,
    CASE_STAGE,
    SEVERITY,
    ASSIGNED_TO,
    PENDING_APPROVAL,
    KYC_DEADLINE,
    DETECTOR_HITS,
    RING_ID,
    RING_SIZE,
)
# Name -> type as the Temporal CLI spells it ("Keyword", "Datetime").
SEARCH_ATTRIBUTES: dict[str, str] = {
    key.name: key.indexed_value_type.name.capitalize() for key in ALL
}
