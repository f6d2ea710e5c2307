"""The CLI's way to keycase: HTTP to the API with a role's bearer token, like any client."""

from typing import Any

import httpx

from api.auth import Role
from cli.tokens import read_tokens, token_for
from config.settings import Settings


class ApiError(Exception):
    """The API refused or failed a request; the message is the API's own error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


def api_base_url(settings: Settings) -> str:
    """Where the API listens, as a client on this machine reaches it."""
    host = settings.api_host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.api_port}"


class KeycaseApi:
    """A thin synchronous client: one method call, one request, JSON in and out."""

    def __init__(self, base_url: str, tokens: str, timeout: float = 15.0) -> None:
        self._tokens = tokens
        self._http = httpx.Client(base_url=base_url, timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> "KeycaseApi":
        return cls(api_base_url(settings), read_tokens(settings))

    def __enter__(self) -> "KeycaseApi":
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def call(self, role: Role, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """Send one request as `role`; returns the decoded JSON, raises ApiError on 4xx/5xx."""
        response = self._http.request(
            method,
            path,
            json=body,
            params={k: v for k, v in params.items() if v is not None},
            headers={"Authorization": f"Bearer {token_for(self._tokens, role)}"},
        )
        if response.is_error:
            raise _error_of(response)
        return response.json() if response.content else None


def _error_of(response: httpx.Response) -> ApiError:
    try:
        error = response.json()["error"]
        return ApiError(response.status_code, str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):
        return ApiError(response.status_code, "http_error", response.text[:200])
