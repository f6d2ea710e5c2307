"""Bearer tokens with roles: `KEYCASE_API_TOKENS` parsing, generation and checking."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    SURVEILLANCE = "surveillance"
    OFFICER = "officer"
    KYC = "kyc"
    GATEWAY = "gateway"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SUPPORT = "support"  # customer support: files appeals of expiries for key owners


# Names become actors in the audit log, workflow history and the AssignedTo search
# attribute, so they stay plain ids (no '@': no e-mail addresses).
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


_EXCHANGE = r"[a-z][a-z0-9_-]{1,31}"  # domain.alerts.ExchangeId's pattern
_SCOPE = re.compile(rf"^{_EXCHANGE}(\|{_EXCHANGE})*$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the role decides what they may do, the name is the recorded actor,
    `exchanges` (None: all) the exchanges whose keys, cases and reports they may touch."""

    role: Role
    name: str
    exchanges: frozenset[str] | None = None


class TokenTable:
    """The configured tokens, checked in constant time and kept only as SHA-256 digests."""

    def __init__(self, entries: list[tuple[Principal, str]]) -> None:
        self._entries = [(_digest(token), principal) for principal, token in entries]

    @classmethod
    def parse(cls, spec: str) -> "TokenTable":
        """Parse comma-separated `role:name:token[:exchange|exchange...]` entries; raises
        ValueError naming the entry."""
        entries: list[tuple[Principal, str]] = []
        seen: set[str] = set()
        for position, raw in enumerate(spec.split(","), start=1):
            entry = raw.strip()
            if not entry:
                continue
            role, name, token, exchanges = _split_entry(entry, position)
            if token in seen:
                raise ValueError(f"KEYCASE_API_TOKENS entry {position}: token used twice")
            seen.add(token)
            entries.append((Principal(role=role, name=name, exchanges=exchanges), token))
        if not entries:
            raise ValueError("KEYCASE_API_TOKENS has no entries")
        return cls(entries)

    def principal_for(self, token: str) -> Principal | None:
        """The principal holding `token`, comparing against every entry so timing tells nothing."""
        candidate = _digest(token)
        found: Principal | None = None
        for digest, principal in self._entries:
            if hmac.compare_digest(digest, candidate):
                found = principal
        return found

    @property
    def principals(self) -> list[Principal]:
        return [principal for _, principal in self._entries]


def generate_tokens(names: dict[Role, str] | None = None) -> str:
    """A fresh `KEYCASE_API_TOKENS` value with one random token per role (name = role)."""
    names = names or {role: role.value for role in Role}
    return ",".join(
        f"{role.value}:{name}:{secrets.token_urlsafe(32)}" for role, name in names.items()
    )


def _split_entry(entry: str, position: int) -> tuple[Role, str, str, frozenset[str] | None]:
    parts = entry.split(":", 2)
    if len(parts) != 3:
        raise ValueError(f"KEYCASE_API_TOKENS entry {position}: expected role:name:token")
    role_text, name, scoped = parts
    token, exchanges = split_scope(scoped)
    try:
        role = Role(role_text)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValueError(
            f"KEYCASE_API_TOKENS entry {position}: unknown role {role_text!r} (one of {allowed})"
        ) from None
    if not _NAME.match(name):
        raise ValueError(f"KEYCASE_API_TOKENS entry {position}: name must match {_NAME.pattern}")
    if not token or token != token.strip():
        raise ValueError(f"KEYCASE_API_TOKENS entry {position}: empty or padded token")
    return role, name, token, exchanges


def split_scope(field: str) -> tuple[str, frozenset[str] | None]:
    """`token[:upbit|bithumb]` → (token, its exchanges or None for all).

    Tokens may hold ':'; a last part that reads as exchange names is the scope. Read
    wrongly, a token only ever sees less, never more."""
    head, sep, tail = field.rpartition(":")
    if sep and _SCOPE.match(tail):
        return head, frozenset(tail.split("|"))
    return field, None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
