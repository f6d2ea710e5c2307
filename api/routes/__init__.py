"""The v1 routers, one per resource, plus the providers' webhooks."""

from fastapi import FastAPI

from api import codec_server, webhooks
from api.routes import accounts, alerts, audit, case_actions, cases, keys


def include_routes(app: FastAPI) -> None:
    """Mount every router on `app`."""
    for module in (accounts, keys, alerts, cases, case_actions, audit, webhooks, codec_server):
        app.include_router(module.router)
