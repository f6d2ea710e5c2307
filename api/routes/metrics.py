"""`GET /metrics`: the API process's Prometheus metrics (observability.metrics), for scrapers.

Counts and latencies only, no identifiers; outside the OpenAPI and the token roles, like
a health check, so a Prometheus scraper on the operators' network needs no API token.
"""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """The metrics in Prometheus's text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
