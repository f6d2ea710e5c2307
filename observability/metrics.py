"""keycase's own Prometheus metrics: every name in one place (README, "Metrics").

Each process exposes them from prometheus_client's default registry: the API on
`GET /metrics`, the worker on `KEYCASE_WORKER_METRICS_ADDRESS`. The Temporal SDK's runtime
metrics (schedule-to-start latency, task slots, sticky cache) come from the worker's SDK
runtime on `KEYCASE_WORKER_SDK_METRICS_ADDRESS` (see worker.metrics).
"""

from prometheus_client import Counter, Gauge, Histogram

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

ALERTS = Counter(
    "keycase_alerts",
    "Alerts by intake outcome: opened, attached, duplicate, refused, shed (503), failed.",
    ["outcome"],
)
ACCEPT_TO_FLAGGED = Histogram(
    "keycase_accept_to_flagged_seconds",
    "From an alert's arrival to its new case's key flagged (MONITORED) in the registry.",
    buckets=(*_FAST, 5.0, 10.0),
)
GATEWAY_DECISIONS = Counter(
    "keycase_gateway_decisions",
    "Gateway decisions by reason; source is authorize (HTTP) or replica (reported).",
    ["source", "reason"],
)
GATEWAY_DECISION_SECONDS = Histogram(
    "keycase_gateway_decision_seconds",
    "Time the API spent deciding one HTTP authorize (the key's read and the rule).",
    buckets=_FAST,
)
NOTICES = Counter(
    "keycase_notices",
    "Notice deliveries by channel and the status they reached (sent, failed, ...).",
    ["channel", "status"],
)
OPEN_CASES = Gauge(
    "keycase_open_cases",
    "Running cases by stage, counted in Temporal's visibility every refresh (worker).",
    ["stage"],
)
