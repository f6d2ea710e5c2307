"""The worker's Prometheus endpoints: the Temporal SDK's runtime metrics and keycase's own."""

from prometheus_client import start_http_server
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


def sdk_runtime(address: str | None) -> Runtime | None:
    """A Temporal runtime serving the SDK's metrics on `address` (host:port); None: default."""
    if not address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


def serve_own_metrics(address: str | None) -> None:
    """Serve keycase's own metrics (observability.metrics) on `address` (host:port), if set."""
    if not address:
        return
    host, _, port = address.rpartition(":")
    start_http_server(int(port), addr=host or "127.0.0.1")
