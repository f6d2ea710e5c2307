"""Surveillance's side of the outcome webhook: checks every signature, can refuse for a while."""

import time
from typing import Any

from domain.outcomes import OUTCOME_ID_HEADER, SIGNATURE_HEADER, signature_matches
from tests.fakes.http_fake import HttpFake, Recorded, Reply


class OutcomeReceiver(HttpFake):
    """Answers 503 until `failing_until` (monotonic seconds), then takes each outcome (200).

    A request with a bad or missing signature is answered 401 and counted, never taken.
    """

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.failing_until = 0.0
        self.taken: list[dict[str, Any]] = []
        self.refused = 0
        self.bad_signatures = 0
        super().__init__()

    def fail_for(self, seconds: float) -> None:
        """Refuse every outcome for the next `seconds`."""
        self.failing_until = time.monotonic() + seconds

    def answer(self, request: Recorded, reply: Reply | None) -> Reply:
        header = request.headers.get(SIGNATURE_HEADER.lower(), "")
        if not signature_matches(self.secret, header, request.body, int(time.time())):
            self.bad_signatures += 1
            return Reply(401, {"error": "bad signature"})
        if time.monotonic() < self.failing_until:
            self.refused += 1
            return Reply(503, {"error": "down for maintenance"})
        outcome = request.json()
        assert request.headers.get(OUTCOME_ID_HEADER.lower()) == outcome["outcome_id"]
        self.taken.append(outcome)
        return Reply(200, {"ok": True})
