"""The FastAPI application: `uvicorn api.app:create_app --factory`."""

import gc
import logging
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api.auth import TokenTable, generate_tokens
from api.authn import Authentication
from api.codec_session import CodecSessions
from api.cursors import Cursors
from api.errors import ERROR_RESPONSES, install_error_handlers
from api.feed_head import FeedHead
from api.intake import AlertsInFlight
from api.limits import MAX_BODY_BYTES, BodyLimitMiddleware
from api.rate_limit import RateLimit
from api.ring_links import RingLinker
from api.routes import include_routes
from config.policy_file import read_appeals_policy, read_policy_file, read_ring_policy
from config.settings import Settings
from config.signing import signing_key
from payloads.converter import converter_for, payload_keys
from store.engine import open_store

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API; Temporal and the store are connected when the app starts."""
    settings = settings or Settings()
    spec = _token_spec(settings)
    tokens = TokenTable.parse(spec)
    keys = payload_keys(settings)
    converter = converter_for(keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = open_store(settings.effective_database_url)
        app.state.alerts_in_flight = AlertsInFlight()
        app.state.feed_head = FeedHead(app.state.store)
        # Lazy: the API comes up even while Temporal is still starting; calls made
        # before it is reachable answer 503 instead of the process crashing.
        app.state.temporal_client = await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=converter,
            lazy=True,
        )
        app.state.ring_linker = RingLinker(
            app.state.store, app.state.temporal_client, settings.task_queue, app.state.ring_policy
        )
        # Everything loaded so far lives as long as the process; frozen, a full collection
        # no longer walks it (it took 40-70 ms, stalling every request in flight).
        gc.freeze()
        try:
            yield
        finally:
            await app.state.feed_head.close()
            await app.state.store.close()  # commits the queued access log first

    app = FastAPI(
        title="keycase",
        summary="DAXA API-key enforcement cases",
        version="1",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.tokens = tokens  # the codec server checks its own callers (outside /v1/)
    # The codec server decodes with the converter's own codec (plain when encryption is off).
    app.state.codec = converter.payload_codec
    app.state.codec_origins = settings.codec_origins
    app.state.rate_limits = {
        "alerts": RateLimit(settings.alerts_per_second, settings.alerts_burst),
        "authorize": RateLimit(settings.authorize_per_second, settings.authorize_burst),
    }
    # Sessions signed with a secret derived from the payload key: every API process agrees.
    app.state.codec_sessions = CodecSessions(keys.current[1] if keys else secrets.token_bytes(32))
    # The same file the worker reads; a bad one stops the API at start, not at a request.
    app.state.policy = read_policy_file(settings.policy_file)
    app.state.appeals = read_appeals_policy(settings.policy_file)
    app.state.ring_policy = read_ring_policy(settings.policy_file)
    app.state.cursors = Cursors.from_token_spec(spec)
    app.state.anchor_key = signing_key(settings)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(Authentication, tokens=tokens)  # added last: runs first
    include_routes(app)
    return app


def _token_spec(settings: Settings) -> str:
    if settings.api_tokens is not None:
        return settings.api_tokens.get_secret_value()
    spec = generate_tokens()
    # Shown once, so a newcomer can call the API; set KEYCASE_API_TOKENS to keep them.
    print(f"KEYCASE_API_TOKENS not set; generated for this process:\n  {spec}", file=sys.stderr)
    return spec
