"""Drawing `domain.reports.charts.BarChart`: as inline SVG for HTML, with fpdf2 for the PDF.

Stacked vertical bars, one colour per series, a legend, totals over the bars. Both take
the same layout numbers so the two formats look alike.
"""

from html import escape

from domain.reports.charts import BarChart
from reports.pdf_doc import INK, MUTED, ReportDocument

PALETTE = (
    (175, 20, 20),  # expired / first series
    (20, 110, 50),
    (120, 120, 120),
    (20, 70, 140),
    (225, 150, 20),
    (120, 60, 160),
)


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def chart_svg(chart: BarChart, width: int = 640, height: int = 260) -> str:
    """The chart as an `<svg>` element (no scripts, no outside references)."""
    left, bottom, top = 40, 40, 30
    plot_h = height - bottom - top
    n = max(1, len(chart.categories))
    slot = (width - left - 10) / n
    bar = slot * 0.6
    parts = [
        f'<svg width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(chart.title)}" font-size="11">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        'stroke="#999"/>',
    ]
    peak = chart.peak
    for i, category in enumerate(chart.categories):
        bars = chart.bars(i)
        width_each = bar / len(bars)
        for b, segments in enumerate(bars):
            x = left + i * slot + (slot - bar) / 2 + b * width_each
            y: float = top + plot_h
            for k, value in segments:
                if not value:
                    continue
                h = plot_h * value / peak
                y -= h
                color = _hex(PALETTE[k % len(PALETTE)])
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{width_each:.1f}" height="{h:.1f}" '
                    f'fill="{color}"><title>{escape(chart.series[k].name)}: {value}</title></rect>'
                )
            total = sum(v for _, v in segments)
            parts.append(
                f'<text x="{x + width_each / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">'
                f"{total}</text>"
            )
        middle = left + i * slot + slot / 2
        parts.append(
            f'<text x="{middle:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
            f'fill="#555">{escape(category)}</text>'
        )
    x = float(left)
    for k, series in enumerate(chart.series):
        color = _hex(PALETTE[k % len(PALETTE)])
        parts.append(
            f'<rect x="{x}" y="{height - 16}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="{height - 7}">{escape(series.name)}</text>'
        )
        x += 24 + 7 * len(series.name) + (6 * sum(1 for c in series.name if ord(c) > 0x3000))
    parts.append("</svg>")
    return "".join(parts)


def draw_chart(doc: ReportDocument, chart: BarChart, height: float = 62) -> None:
    """The chart drawn with fpdf2 at the current position, full text width."""
    if doc.will_page_break(height + 18):
        doc.add_page()
    doc.subheading(chart.title)
    left = doc.l_margin + 8
    width = doc.epw - 8
    top = doc.get_y() + 4
    plot_h = height - 18
    n = max(1, len(chart.categories))
    slot = width / n
    bar = slot * 0.6
    baseline = top + plot_h
    doc.set_draw_color(*MUTED)
    doc.set_line_width(0.2)
    doc.line(left, baseline, left + width, baseline)
    doc.set_font("nanum", "", 7)
    peak = chart.peak
    for i, category in enumerate(chart.categories):
        bars = chart.bars(i)
        width_each = bar / len(bars)
        for b, segments in enumerate(bars):
            x = left + i * slot + (slot - bar) / 2 + b * width_each
            y = baseline
            for k, value in segments:
                if not value:
                    continue
                h = plot_h * value / peak
                y -= h
                doc.set_fill_color(*PALETTE[k % len(PALETTE)])
                doc.rect(x, y, width_each, h, style="F")
            doc.set_text_color(*INK)
            doc.set_xy(x - 4, y - 4)
            doc.cell(width_each + 8, 3.5, str(sum(v for _, v in segments)), align="C")
        doc.set_text_color(*MUTED)
        doc.set_xy(left + i * slot, baseline + 1)
        doc.cell(slot, 3.5, category, align="C")
    x = left
    y = baseline + 7
    for k, series in enumerate(chart.series):
        doc.set_fill_color(*PALETTE[k % len(PALETTE)])
        doc.rect(x, y + 0.5, 3, 3, style="F")
        doc.set_text_color(*INK)
        doc.set_xy(x + 4, y)
        label_w = doc.get_string_width(series.name) + 2
        doc.cell(label_w, 4, series.name)
        x += label_w + 8
    doc.set_xy(doc.l_margin, y + 7)
