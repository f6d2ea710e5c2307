"""Authentication before anything else: a /v1/ call without a known token is a 401 at once.

It runs in front of the body cap and the routes, so an unauthenticated caller never has
its body read or parsed (a malformed body without a token is a 401, not a 422). Roles are
checked per route (`api.deps.require_role`) against the principal this leaves in the
request's state. The providers' webhooks are signed instead and skip this.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import TokenTable
from api.errors import send_error

PROTECTED_PREFIX = "/v1/"
SIGNED_PREFIX = "/v1/webhooks/"
_BEARER = "bearer "


class Authentication:
    """ASGI middleware admitting only callers with a configured bearer token."""

    def __init__(self, app: ASGIApp, tokens: TokenTable) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith(PROTECTED_PREFIX)
            or path.startswith(SIGNED_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        token = _bearer_token(scope)
        principal = self.tokens.principal_for(token) if token else None
        if principal is None:
            message = "unknown token" if token else "bearer token required"
            await _unauthorized(send, message)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            text = bytes(value).decode("latin-1")
            if text[: len(_BEARER)].lower() == _BEARER and text[len(_BEARER) :].strip():
                return text[len(_BEARER) :].strip()
            return None
    return None


async def _unauthorized(send: Send, message: str) -> None:
    await send_error(send, 401, "unauthorized", message, [(b"www-authenticate", b"Bearer")])
