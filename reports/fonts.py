"""The Korean font the PDFs embed: NanumGothic from Debian's `fonts-nanum`, found at run time."""

import os
from dataclasses import dataclass
from pathlib import Path

FONT_PACKAGE = "fonts-nanum"
# Where Debian/Ubuntu put the package's files, then other usual font folders.
SEARCH = (
    Path("/usr/share/fonts/truetype/nanum"),
    Path("/usr/share/fonts/nanum"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
)
FILES = {
    "regular": "NanumGothic.ttf",
    "bold": "NanumGothicBold.ttf",
    "mono": "NanumGothicCoding.ttf",
}


class FontMissing(RuntimeError):
    """No Korean font to embed: says which package to install."""


@dataclass(frozen=True)
class KoreanFonts:
    regular: Path
    bold: Path
    mono: Path


def _folders() -> list[Path]:
    configured = os.environ.get("KEYCASE_REPORT_FONT_DIR")
    return [Path(configured), *SEARCH] if configured else list(SEARCH)


def find_fonts() -> KoreanFonts:
    """The three NanumGothic files; FontMissing naming `fonts-nanum` when any is absent."""
    found: dict[str, Path] = {}
    for role, name in FILES.items():
        for folder in _folders():
            if (folder / name).is_file():
                found[role] = folder / name
                break
    missing = [FILES[role] for role in FILES if role not in found]
    if missing:
        raise FontMissing(
            f"PDF reports need the Korean font {', '.join(missing)}: install the Debian "
            f"package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE}) or point "
            "KEYCASE_REPORT_FONT_DIR at a folder holding it; HTML and JSON need no font"
        )
    return KoreanFonts(found["regular"], found["bold"], found["mono"])
