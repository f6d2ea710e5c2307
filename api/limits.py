"""A request-body cap that also holds for chunked bodies (Starlette has none of its own)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import send_error

MAX_BODY_BYTES = 64 * 1024
# SendGrid posts its events in batches far above 64 KiB; refusing one would make it
# redeliver the same batch forever, so its webhook gets a larger (still finite) cap.
# Twilio's status callbacks are a kilobyte or two: they keep the default.
WEBHOOK_MAX_BODY_BYTES = 4 * 1024 * 1024
# A gateway client reports up to 5,000 decisions at once (api.feed_schemas.MAX_REPORTED).
ACCESS_REPORT_MAX_BODY_BYTES = 2 * 1024 * 1024
LARGER_CAPS = {
    "/v1/webhooks/sendgrid": WEBHOOK_MAX_BODY_BYTES,
    "/v1/access-reports": ACCESS_REPORT_MAX_BODY_BYTES,
}


class BodyTooLarge(Exception):
    """The client sent more than the cap."""


class BodyLimitMiddleware:
    """Reads at most `max_bytes` of each request body, answering 413 beyond that.

    A Content-Length check alone is bypassed by chunked transfer encoding, so the
    streamed bytes are counted. Bodies are small by contract, so the capped body is
    buffered and replayed to the app, which then never sees a half-read request.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        larger_caps: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger_caps = LARGER_CAPS if larger_caps is None else larger_caps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self._cap(scope["path"])
        if self._declared_length(scope) > cap:
            await self._reject(send, cap)
            return
        try:
            body = await self._read_capped(receive, cap)
        except BodyTooLarge:
            await self._reject(send, cap)
            return
        await self.app(scope, _replay(body, receive), send)

    def _cap(self, path: str) -> int:
        for prefix, cap in self.larger_caps.items():
            if path.startswith(prefix):
                return cap
        return self.max_bytes

    def _declared_length(self, scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0  # malformed: the byte count below still applies
        return 0

    async def _read_capped(self, receive: Receive, cap: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # disconnected; the app will notice
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _reject(self, send: Send, cap: int) -> None:
        message = f"request body exceeds {cap} bytes"
        await send_error(send, 413, "payload_too_large", message, [(b"connection", b"close")])


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
