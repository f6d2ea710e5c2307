"""The v1 routers, one per resource, plus the providers' webhooks."""

from fastapi import FastAPI

from api import codec_server, webhooks
from api.routes import (
    accounts,
    alerts,
    appeals,
    audit,
    case_actions,
    cases,
    gateway_feed,
    keys,
    metrics,
    outcomes,
    reports,
    rings,
)


def include_routes(app: FastAPI) -> None:
    """Mount every router on `app`."""
    # gateway_feed before keys: /v1/keys/changes is not a key id.
    routers = (
        accounts,
        gateway_feed,
        keys,
        alerts,
        outcomes,
        cases,
        case_actions,
        appeals,
        rings,
        audit,
        reports,
        webhooks,
    )
    for module in (*routers, metrics, codec_server):
        app.include_router(module.router)
