"""Identifiers and names that every layer agrees on."""

import re

TASK_QUEUE = "keycase"
WORKFLOW_TYPE = "KeyCaseWorkflow"  # the case workflow's registered name
WORKFLOW_ID_PREFIX = "keycase-"
APPEAL_WORKFLOW_TYPE = "AppealWorkflow"
APPEAL_WORKFLOW_ID_PREFIX = "appeal-"

# Key ids are opaque, but they travel in workflow ids, URLs and search attributes,
# so they are restricted to a safe alphabet (no '.', which separates case ids).
KEY_ID_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"
_KEY_ID = re.compile(KEY_ID_PATTERN)


def case_workflow_id(key_id: str) -> str:
    """The id of the one workflow that handles cases for this key."""
    if not _KEY_ID.match(key_id):
        raise ValueError(f"invalid key id {key_id!r}")
    return WORKFLOW_ID_PREFIX + key_id


def case_id_for(key_id: str, opening_run_id: str) -> str:
    """A case is named by the run of the key's workflow that opened it.

    The name stays when a long case continues as new; the runs that hold a case show
    its id as the `CaseId` search attribute.
    """
    return f"{key_id}.{opening_run_id}"


def key_id_of_case(case_id: str) -> str:
    """The key a case id belongs to; raises ValueError for a malformed case id."""
    key_id, sep, run = case_id.rpartition(".")
    # Both parts travel into visibility queries, so both keep to the safe alphabet.
    if not sep or not _KEY_ID.match(run) or not _KEY_ID.match(key_id):
        raise ValueError(f"invalid case id {case_id!r}")
    return key_id


def appeal_workflow_id(case_id: str) -> str:
    """The id of the one appeal a case may have: a second start with it is refused."""
    key_id_of_case(case_id)  # a well-formed case id, so the id stays in the safe alphabet
    return APPEAL_WORKFLOW_ID_PREFIX + case_id
