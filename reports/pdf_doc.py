"""A small A4 document on fpdf2 with the Korean fonts: headings, fields, paragraphs, rules.

Both PDF reports are written with these few calls, so they look alike: a title block,
sections with a bar, label/value lines, wrapped text, a footer with the page and the id.
"""

import logging

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from reports.fonts import find_fonts

INK = (25, 25, 25)
MUTED = (105, 105, 105)
ACCENT = (20, 70, 140)
BAD = (175, 20, 20)
GOOD = (20, 110, 50)
LINE = 5.0
# NanumGothic carries hinting tables fontTools cannot subset; it drops them, as it should.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)


class ReportDocument(FPDF):
    """A4 portrait, 15 mm margins, NanumGothic throughout (mono for hashes)."""

    def __init__(self, title: str, footer_note: str, lang: str = "ko") -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.lang = lang
        fonts = find_fonts()
        self.add_font("nanum", "", str(fonts.regular))
        self.add_font("nanum", "B", str(fonts.bold))
        self.add_font("mono", "", str(fonts.mono))
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=16)
        self.set_title(title)
        self.set_creator("keycase")
        self._footer_note = footer_note
        self.add_page()

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font("nanum", "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(0, 4, self._footer_note, new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.cell(0, 4, f"{self.page_no()} / {{nb}}", align="R")

    def text_line(self, h: float, text: str) -> None:
        """`text` from here to the right margin, wrapped only when it must be.

        fpdf2's line breaking measures a fragment again for every character it adds, so
        a text that fits goes out as one cell: a long case's pack renders ten times faster.
        """
        room = self.w - self.r_margin - self.get_x()
        if "\n" not in text and self.get_string_width(text) <= room - 2 * self.c_margin:
            self.cell(room, h, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            self.multi_cell(0, h, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def title_block(self, title: str, subtitle: str) -> None:
        self.set_font("nanum", "B", 18)
        self.set_text_color(*ACCENT)
        self.multi_cell(0, 9, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("nanum", "", 9.5)
        self.set_text_color(*MUTED)
        self.multi_cell(0, LINE, subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        self.rule()

    def rule(self) -> None:
        self.set_draw_color(*MUTED)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(2)

    def section(self, heading: str) -> None:
        if self.will_page_break(20):
            self.add_page()
        self.ln(3)
        self.set_fill_color(*ACCENT)
        self.set_text_color(255, 255, 255)
        self.set_font("nanum", "B", 11.5)
        self.cell(0, 7, f"  {heading}", fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)
        self.set_text_color(*INK)

    def subheading(self, text: str) -> None:
        if self.will_page_break(14):
            self.add_page()
        self.set_font("nanum", "B", 10)
        self.set_text_color(*INK)
        self.multi_cell(0, LINE + 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def field(
        self, label: str, value: str, width: float = 38, color: tuple[int, int, int] = INK
    ) -> None:
        """`label` in a column of its own, `value` wrapped beside it."""
        self.set_font("nanum", "B", 9)
        self.set_text_color(*MUTED)
        y = self.get_y()
        if self.will_page_break(LINE):
            self.add_page()
            y = self.get_y()
        self.cell(width, LINE, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.set_font("nanum", "", 9)
        self.set_text_color(*color)
        self.set_xy(self.l_margin + width, y)
        self.text_line(LINE, value or "—")

    def paragraph(self, text: str, size: float = 9, color: tuple[int, int, int] = INK) -> None:
        self.set_font("nanum", "", size)
        self.set_text_color(*color)
        self.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def boxed(self, text: str) -> None:
        """Text as the owner received it, in a light box."""
        self.set_font("nanum", "", 8.5)
        self.set_text_color(*INK)
        self.set_fill_color(244, 246, 250)
        wrapped = self.multi_cell(0, 4.4, text, padding=2, dry_run=True, output="LINES")
        lines = len(wrapped) if isinstance(wrapped, list) else 1
        if self.will_page_break(lines * 4.4 + 4) and lines * 4.4 < self.eph * 0.8:
            self.add_page()  # keep a notice on one page when it fits on one
        self.multi_cell(0, 4.4, text, fill=True, padding=2, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def mono(self, text: str, size: float = 7, color: tuple[int, int, int] = MUTED) -> None:
        self.set_font("mono", "", size)
        self.set_text_color(*color)
        self.text_line(size * 0.48, text)

    def render(self) -> bytes:
        return bytes(self.output())
