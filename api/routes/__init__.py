"""The v1 routers, one per resource."""

from fastapi import FastAPI

from api.routes import cases


def include_routes(app: FastAPI) -> None:
    """Mount every router on `app`."""
    app.include_router(cases.router)
