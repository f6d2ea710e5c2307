"""API tokens of the local stack: generated once, kept owner-only, reused by the CLI."""

from pathlib import Path

import pytest
from pydantic import SecretStr

from api.auth import Role, TokenTable
from cli.tokens import load_or_create_tokens, read_tokens, token_for
from config.settings import Settings


def settings_in(tmp_path: Path, tokens: str | None = None) -> Settings:
    return Settings(
        data_dir=tmp_path / ".keycase", api_tokens=SecretStr(tokens) if tokens else None
    )


def test_first_start_generates_one_token_per_role_and_saves_them_owner_only(
    tmp_path: Path,
) -> None:
    settings = settings_in(tmp_path)

    spec = load_or_create_tokens(settings)

    roles = {principal.role for principal in TokenTable.parse(spec).principals}
    assert roles == set(Role)
    saved = tmp_path / ".keycase" / "api_tokens"
    assert saved.read_text().strip() == spec
    assert saved.stat().st_mode & 0o777 == 0o600


def test_later_starts_and_the_cli_reuse_the_saved_tokens(tmp_path: Path) -> None:
    first = load_or_create_tokens(settings_in(tmp_path))

    assert load_or_create_tokens(settings_in(tmp_path)) == first
    assert read_tokens(settings_in(tmp_path)) == first


def test_configured_tokens_win_and_nothing_is_written(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, "officer:kim:s3cret-token,admin:ops:other-token")

    assert load_or_create_tokens(settings).startswith("officer:kim:")
    assert token_for(read_tokens(settings), Role.OFFICER) == "s3cret-token"
    assert not (tmp_path / ".keycase" / "api_tokens").exists()


def test_cli_without_tokens_says_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="keycase up"):
        read_tokens(settings_in(tmp_path))


def test_missing_role_is_named(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="no auditor token"):
        token_for("officer:kim:s3cret-token", Role.AUDITOR)
