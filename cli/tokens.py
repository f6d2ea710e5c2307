"""API tokens for the local stack: configured, or generated once and kept in the data dir."""

from pathlib import Path

from api.auth import Role, TokenTable, generate_tokens
from config.settings import Settings

TOKENS_FILE = "api_tokens"


def tokens_path(settings: Settings) -> Path:
    return settings.data_dir / TOKENS_FILE


def load_or_create_tokens(settings: Settings) -> str:
    """The `KEYCASE_API_TOKENS` value: from settings, else the saved file, else a new one."""
    if settings.api_tokens is not None:
        return settings.api_tokens.get_secret_value()
    path = tokens_path(settings)
    if path.exists():
        return path.read_text().strip()
    spec = generate_tokens()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created owner-only before the secret is written, so it is never readable by others.
    path.touch(mode=0o600, exist_ok=False)
    path.write_text(spec + "\n")
    return spec


def read_tokens(settings: Settings) -> str:
    """The tokens the CLI uses; raises LookupError with a hint when there are none."""
    if settings.api_tokens is not None:
        return settings.api_tokens.get_secret_value()
    path = tokens_path(settings)
    if not path.exists():
        raise LookupError(
            f"no API tokens: set KEYCASE_API_TOKENS or start the stack (`keycase up`) "
            f"which saves them in {path}"
        )
    return path.read_text().strip()


def entries(spec: str) -> list[tuple[Role, str, str]]:
    """(role, name, token) for each entry of a validated `KEYCASE_API_TOKENS` value."""
    TokenTable.parse(spec)  # raises ValueError naming a bad entry
    found: list[tuple[Role, str, str]] = []
    for raw in spec.split(","):
        if raw.strip():
            role, name, token = raw.strip().split(":", 2)
            found.append((Role(role), name, token))
    return found


def token_for(spec: str, role: Role) -> str:
    """The first token with `role`; raises LookupError naming the missing role."""
    for entry_role, _name, token in entries(spec):
        if entry_role is role:
            return token
    raise LookupError(f"KEYCASE_API_TOKENS has no {role.value} token")
