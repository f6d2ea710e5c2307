"""A gateway's in-process copy of keycase's key registry.

    async with GatewayClient("https://keycase.internal", token, staleness=5.0) as keycase:
        decision = keycase.decide(key_id, request_ip, Permission.TRADE)   # microseconds
        if not decision.allowed: refuse(decision.reason)

The replica follows keycase's change feed (`GET /v1/keys/changes`), decides with the same
rule as keycase's `authorize` (`domain.gateway.decide`), reports every decision back in
batches for the access log, and denies every request (`replica_stale`) once it has not
heard from keycase for longer than `staleness` seconds.
"""

from keycase_gateway.client import GatewayClient
from keycase_gateway.replica import Replica

__all__ = ["GatewayClient", "Replica"]
