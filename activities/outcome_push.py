"""The `push_outcomes` activity: undelivered outcomes to surveillance's webhook, signed, in order.

Each outcome is posted with `Keycase-Signature: t=<unix seconds>,v1=<HMAC-SHA256 hex of
"<t>.<body>">` and `Keycase-Outcome-Id`; a 2xx marks it delivered (one commit per outcome),
anything else stops the drain with an error so that Temporal retries it with backoff from
the first outcome not yet delivered. Should a worker die between the receiver's 2xx and the
mark, the next drain posts that outcome again with the same id: receivers drop repeats.
"""

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.outcomes import (
    OUTCOME_ID_HEADER,
    PUSH_OUTCOMES,
    SIGNATURE_HEADER,
    Outcome,
    PushOutcomesInput,
    PushOutcomesResult,
    outcome_body,
    signature,
)
from store.outcomes import mark_delivered, note_failure, undelivered
from store.port import Store

BATCH = 100
IDLE_POLL_SECONDS = 1.0  # how soon a new outcome goes out when the outbox was empty
POST_TIMEOUT_SECONDS = 10.0
REFUSED = "OutcomeNotTaken"


class OutcomePushActivities:
    """Posts outcomes to one webhook with one secret."""

    def __init__(
        self,
        store: Store,
        url: str,
        secret: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._store = store
        self._url = url
        self._secret = secret
        self._clock = clock or (lambda: datetime.now(UTC))

    @activity.defn(name=PUSH_OUTCOMES)
    async def push_outcomes(self, request: PushOutcomesInput) -> PushOutcomesResult:
        """Post what is due until `drain_seconds` have passed; raise on the first refusal."""
        ends = time.monotonic() + request.drain_seconds
        delivered = 0
        async with httpx.AsyncClient(timeout=POST_TIMEOUT_SECONDS) as http:
            while True:
                activity.heartbeat(delivered)
                due = await self._store.read(lambda c: undelivered(c, BATCH))
                for outcome in due:
                    await self._deliver(http, outcome)
                    delivered += 1
                    activity.heartbeat(delivered)
                if time.monotonic() >= ends:
                    return PushOutcomesResult(delivered=delivered)
                if not due:
                    await asyncio.sleep(IDLE_POLL_SECONDS)

    async def _deliver(self, http: httpx.AsyncClient, outcome: Outcome) -> None:
        await self._post(http, outcome)
        now = self._clock()
        await self._store.write(lambda c: mark_delivered(c, outcome.seq, now))

    async def _post(self, http: httpx.AsyncClient, outcome: Outcome) -> None:
        body = outcome_body(outcome)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(self._secret, int(self._clock().timestamp()), body),
            OUTCOME_ID_HEADER: outcome.outcome_id,
        }
        try:
            response = await http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as error:
            problem = f"outcome {outcome.seq}: {type(error).__name__}: {error}"
        else:
            if response.is_success:
                return
            problem = f"outcome {outcome.seq}: the receiver answered {response.status_code}"
        await self._store.write(lambda c: note_failure(c, outcome.seq, problem))
        raise ApplicationError(problem, type=REFUSED)
