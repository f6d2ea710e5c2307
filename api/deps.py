"""Request dependencies: the caller's principal by role, the store and the Temporal client."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from api.auth import Principal, Role
from api.cursors import Cursors
from api.errors import ApiError
from config.settings import Settings
from domain.appeals import AppealsPolicy
from domain.policy import LadderPolicy, WhitelistPolicy
from store.port import Store

_bearer = HTTPBearer(auto_error=False, description="`KEYCASE_API_TOKENS` token")


async def authenticated(
    request: Request,
    # Documents the scheme in the OpenAPI; the token was checked by api.authn already.
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller api.authn admitted, whatever its role (401 without one).

    One dependency, so FastAPI resolves it once per request for the role and scope checks."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:
        raise ApiError(401, "unauthorized", "bearer token required", {"WWW-Authenticate": "Bearer"})
    return found


Caller = Annotated[Principal, Depends(authenticated)]


def require_role(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting callers whose token has one of `roles`."""
    allowed = frozenset(roles)

    async def principal(found: Caller) -> Principal:
        if found.role not in allowed:
            needed = " or ".join(sorted(r.value for r in allowed))
            raise ApiError(403, "forbidden", f"this needs the {needed} role")
        return found

    return principal


Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Surveillance = Annotated[Principal, Depends(require_role(Role.SURVEILLANCE))]
Officer = Annotated[Principal, Depends(require_role(Role.OFFICER))]
Reader = Annotated[Principal, Depends(require_role(Role.OFFICER, Role.AUDITOR))]
Kyc = Annotated[Principal, Depends(require_role(Role.KYC))]
Gateway = Annotated[Principal, Depends(require_role(Role.GATEWAY))]
Auditor = Annotated[Principal, Depends(require_role(Role.AUDITOR))]
AppealFiler = Annotated[Principal, Depends(require_role(Role.OFFICER, Role.SUPPORT))]
AppealReader = Annotated[Principal, Depends(require_role(Role.OFFICER, Role.SUPPORT, Role.AUDITOR))]


# Dependencies are `async def`: a plain `def` costs every request a thread-pool hop.
async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def _whitelist(request: Request) -> WhitelistPolicy:
    policy: LadderPolicy = request.app.state.policy
    return policy.whitelist


async def _appeals(request: Request) -> AppealsPolicy:
    policy: AppealsPolicy = request.app.state.appeals
    return policy


async def _policy(request: Request) -> LadderPolicy:
    policy: LadderPolicy = request.app.state.policy
    return policy


async def _cursors(request: Request) -> Cursors:
    cursors: Cursors = request.app.state.cursors
    return cursors


async def _anchor_key(request: Request) -> Ed25519PrivateKey:
    key: Ed25519PrivateKey = request.app.state.anchor_key
    return key


async def _temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal_client
    return client


AppSettings = Annotated[Settings, Depends(_settings)]
# The process's one store: a route's write has committed before its response is sent.
StoreDep = Annotated[Store, Depends(_store)]
TemporalClient = Annotated[Client, Depends(_temporal)]
PageCursors = Annotated[Cursors, Depends(_cursors)]
# The running policy file: which exchanges cases may be opened on.
RunningPolicy = Annotated[LadderPolicy, Depends(_policy)]
# Signs the chain's head with every report; its public half checks the anchors.
AnchorKey = Annotated[Ed25519PrivateKey, Depends(_anchor_key)]
# How wide a block new whitelist entries may name (the policy file's [whitelist]).
WhitelistLimits = Annotated[WhitelistPolicy, Depends(_whitelist)]
# The policy file's [appeals]: the window after an expiry, the replacement's cool-down.
AppealsLimits = Annotated[AppealsPolicy, Depends(_appeals)]
