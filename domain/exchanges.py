"""The exchanges keycase serves and who notices come from on each.

The five DAXA members are known by name; any other exchange id is known only once the
policy file gives it an entry (`[exchange.<id>.sender]` with both display names).
"""

from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from domain.contacts import normalise_email, normalise_phone

# The DAXA members: id -> (Korean, English) display names, as their customers know them.
DAXA_MEMBERS: dict[str, tuple[str, str]] = {
    "upbit": ("업비트", "Upbit"),
    "bithumb": ("빗썸", "Bithumb"),
    "coinone": ("코인원", "Coinone"),
    "korbit": ("코빗", "Korbit"),
    "gopax": ("고팍스", "GOPAX"),
}

DisplayName = Annotated[str, Field(min_length=1, max_length=60)]


class SenderIdentity(BaseModel):
    """Who a notice comes from on one exchange; unset addresses fall back to the worker's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    from_email: Annotated[str, AfterValidator(normalise_email)] | None = None
    sms_number: Annotated[str, AfterValidator(normalise_phone)] | None = None
    name_ko: DisplayName | None = None
    name_en: DisplayName | None = None


class ResolvedSender(BaseModel):
    """A sender identity with both display names filled in (for rendering notices)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exchange: str
    name_ko: str
    name_en: str
    from_email: str | None = None
    sms_number: str | None = None

    @model_validator(mode="after")
    def _named(self) -> Self:
        if not self.name_ko or not self.name_en:
            raise ValueError("a sender needs display names in Korean and English")
        return self

    def name(self, locale: str) -> str:
        """The display name in the owner's language (Korean unless English)."""
        return self.name_en if locale == "en" else self.name_ko


def resolve_sender(exchange: str, sender: SenderIdentity | None) -> ResolvedSender | None:
    """The exchange's sender with the DAXA names filling gaps; None for an unknown exchange."""
    known_ko, known_en = DAXA_MEMBERS.get(exchange, (None, None))
    name_ko = (sender.name_ko if sender else None) or known_ko
    name_en = (sender.name_en if sender else None) or known_en
    if name_ko is None or name_en is None:
        return None
    return ResolvedSender(
        exchange=exchange,
        name_ko=name_ko,
        name_en=name_en,
        from_email=sender.from_email if sender else None,
        sms_number=sender.sms_number if sender else None,
    )


def daxa_sender(exchange: str) -> ResolvedSender | None:
    """A DAXA member's sender with its display names only (no file entry)."""
    return resolve_sender(exchange, None)
