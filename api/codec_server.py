"""Temporal's remote-codec endpoints for the Web UI and CLI, for officers and auditors only.

`POST /codec/decode` and `/codec/encode` take and give `{"payloads": [...]}` (protobuf
JSON). The caller proves who they are with a bearer token or a codec session cookie
(`/codec/session`); anyone else gets 401 and nothing decoded. Cross-origin calls are
answered only for the Temporal UI's origins, with credentials."""

from collections.abc import Mapping, Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from api.auth import Principal, Role, TokenTable
from api.codec_session import COOKIE, LIFETIME_SECONDS, CodecSessions
from api.errors import ApiError
from payloads.codec import PayloadDecryptError

router = APIRouter(prefix="/codec", tags=["codec"], include_in_schema=False)
_bearer = HTTPBearer(auto_error=False)
_READERS = frozenset({Role.OFFICER, Role.AUDITOR})
_MAX_PAYLOADS = 1000


def _cors(request: Request) -> dict[str, str]:
    """CORS headers for an allowed origin, none for any other (the browser then refuses)."""
    origin = request.headers.get("origin")
    allowed: frozenset[str] = request.app.state.codec_origins
    if origin is None or origin not in allowed:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


async def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    cors = _cors(request)
    found: Principal | None = None
    if credentials is not None:
        tokens: TokenTable = request.app.state.tokens
        found = tokens.principal_for(credentials.credentials)
    elif (cookie := request.cookies.get(COOKIE)) is not None:
        sessions: CodecSessions = request.app.state.codec_sessions
        found = sessions.principal_for(cookie)
    if found is None:
        headers = {**cors, "WWW-Authenticate": "Bearer"}
        raise ApiError(401, "unauthorized", "an officer or auditor token or session", headers)
    if found.role not in _READERS:
        raise ApiError(403, "forbidden", "this needs the auditor or officer role", cors)
    if found.exchanges is not None:
        # A payload does not say whose exchange it is: only callers who see every
        # exchange may decode (scoped officers read their cases through the API).
        raise ApiError(403, "forbidden", "exchange-scoped tokens cannot decode payloads", cors)
    return found


Caller = Annotated[Principal, Depends(_caller)]


@router.options("/{endpoint}")
async def preflight(endpoint: str, request: Request) -> Response:
    """CORS preflight: the UI may POST JSON with its namespace header, with credentials."""
    headers = _cors(request)
    if not headers:
        raise ApiError(403, "forbidden", "origin not allowed")
    headers["Access-Control-Allow-Methods"] = "POST"
    headers["Access-Control-Allow-Headers"] = "content-type, x-namespace, authorization"
    headers["Access-Control-Max-Age"] = "600"
    return Response(status_code=204, headers=headers)


@router.post("/decode")
async def decode(request: Request, caller: Caller) -> Response:
    """Decrypt the payloads the UI shows."""
    payloads = await _payloads(request)
    try:
        decoded = await _codec(request).decode(payloads.payloads)
    except PayloadDecryptError as error:
        raise ApiError(400, "bad_request", str(error), _cors(request)) from None
    return _answer(request, decoded)


@router.post("/encode")
async def encode(request: Request, caller: Caller) -> Response:
    """Encrypt what an officer sends from the UI (signals, updates); auditors only read."""
    if caller.role is not Role.OFFICER:
        raise ApiError(403, "forbidden", "this needs the officer role", _cors(request))
    payloads = await _payloads(request)
    return _answer(request, await _codec(request).encode(payloads.payloads))


@router.post("/session")
async def open_session(request: Request, caller: Caller) -> Response:
    """Trade a bearer token for a session cookie the UI's codec calls carry."""
    sessions: CodecSessions = request.app.state.codec_sessions
    response = Response(status_code=204, headers=_cors(request))
    response.set_cookie(
        COOKIE,
        sessions.issue(caller),
        max_age=LIFETIME_SECONDS,
        path="/codec",
        httponly=True,
        samesite="strict",  # same site as the UI (ports do not count), no other site
        secure=request.url.scheme == "https",
    )
    return response


@router.delete("/session")
async def close_session(request: Request) -> Response:
    """Sign out: the cookie is dropped."""
    response = Response(status_code=204, headers=_cors(request))
    response.delete_cookie(COOKIE, path="/codec")
    return response


@router.get("/session", response_class=HTMLResponse)
async def sign_in_page() -> HTMLResponse:
    """A page where an officer pastes their token once to open a codec session."""
    return HTMLResponse(_SIGN_IN_PAGE)


def _codec(request: Request) -> PayloadCodec:
    codec: PayloadCodec | None = request.app.state.codec
    return codec or _Plain()


class _Plain(PayloadCodec):
    """Encryption switched off (benchmarks): payloads stay as they are."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)


async def _payloads(request: Request) -> Payloads:
    payloads = Payloads()
    try:
        json_format.Parse(await request.body(), payloads)
    except (json_format.ParseError, DecodeError, UnicodeDecodeError) as error:
        raise ApiError(
            400, "bad_request", f"not a payloads object: {error}", _cors(request)
        ) from None
    if len(payloads.payloads) > _MAX_PAYLOADS:
        raise ApiError(413, "payload_too_large", "too many payloads", _cors(request))
    return payloads


def _answer(request: Request, payloads: list[Payload]) -> Response:
    body = json_format.MessageToJson(Payloads(payloads=payloads), indent=None)
    headers: Mapping[str, str] = _cors(request)
    return Response(body, media_type="application/json", headers=headers)


_SIGN_IN_PAGE = """<!doctype html>
<meta charset="utf-8"><title>keycase codec session</title>
<h1>Decode cases in the Temporal UI</h1>
<p>Paste your officer or auditor token. It opens a session for eight hours; the token
is not kept in the browser.</p>
<form id="f"><input id="t" type="password" size="50" autocomplete="off">
<button>Sign in</button> <button type="button" id="out">Sign out</button></form>
<p id="s"></p>
<script>
const say = (text) => { document.getElementById("s").textContent = text; };
document.getElementById("f").onsubmit = async (event) => {
  event.preventDefault();
  const token = document.getElementById("t").value;
  const r = await fetch("session", {method: "POST", headers: {Authorization: "Bearer " + token}});
  say(r.ok ? "Signed in. In the Temporal UI's codec settings, turn on "
      + "'Include cross-origin credentials'." : "Refused (" + r.status + ").");
};
document.getElementById("out").onclick = async () => {
  await fetch("session", {method: "DELETE"}); say("Signed out.");
};
</script>
"""
