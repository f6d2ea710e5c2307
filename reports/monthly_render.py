"""The monthly report in each format: PDF and HTML with charts, JSON and CSV of the figures."""

import csv
import io

from domain.reports.monthly import MonthlyFigures, Table
from domain.reports.wording import label
from reports.case_pdf import proof_fields
from reports.charts import chart_svg, draw_chart
from reports.html_doc import e, fields, page, table
from reports.pdf_doc import ACCENT, INK, MUTED, ReportDocument


def _scope(figures: MonthlyFigures) -> str:
    return figures.exchange or label("all_exchanges", figures.lang)


def _title(figures: MonthlyFigures) -> str:
    return f"{label('monthly_report', figures.lang)} · {figures.month} · {_scope(figures)}"


def _pdf_table(doc: ReportDocument, t: Table) -> None:
    doc.section(t.title)
    columns = len(t.headers)
    widths = [doc.epw / columns] * columns
    if columns >= 4:  # the first column holds names: give it room
        widths = [doc.epw * 0.34] + [doc.epw * 0.66 / (columns - 1)] * (columns - 1)
    doc.set_font("nanum", "B", 8.5)
    doc.set_text_color(*MUTED)
    for header, w in zip(t.headers, widths, strict=True):
        doc.cell(w, 5, header)
    doc.ln(5.5)
    doc.set_font("nanum", "", 8.5)
    doc.set_text_color(*INK)
    if not t.rows:
        doc.cell(0, 5, label("none", doc.lang))
        doc.ln(5)
    for row in t.rows:
        if doc.will_page_break(5):
            doc.add_page()
        for cell, w in zip([*row.keys, *row.values], widths, strict=True):
            doc.cell(w, 5, cell)
        doc.ln(5)


def render_monthly_pdf(figures: MonthlyFigures) -> bytes:
    """Page one: the headline numbers and the chain's verdict; then the charts and tables."""
    lang = figures.lang
    doc = ReportDocument(
        _title(figures), f"keycase · {_title(figures)} · {figures.generated_at}", lang
    )
    doc.title_block(
        f"{label('monthly_report', lang)} · {figures.month}",
        f"{_scope(figures)}\n{label('generated', lang)}: {figures.generated_at}",
    )
    doc.set_font("nanum", "B", 26)
    doc.set_text_color(*ACCENT)
    doc.cell(40, 12, f"{figures.cases_opened:,}")
    doc.set_font("nanum", "", 11)
    doc.set_text_color(*INK)
    doc.cell(0, 12, label("m_total_opened", lang))
    doc.ln(14)
    doc.section(label("proof", lang))
    proof_fields(doc, figures.proof, lang)
    for chart in figures.charts:
        doc.ln(2)
        draw_chart(doc, chart)
    for t in figures.tables:
        _pdf_table(doc, t)
    return doc.render()


def render_monthly_html(figures: MonthlyFigures) -> str:
    lang = figures.lang
    proof = figures.proof
    verdict = (
        f'<p class="ok">{e(label("verified_ok", lang))}</p>'
        if proof.ok
        else f'<p class="bad">{e(label("verified_bad", lang))}: row {proof.first_bad_row} '
        f"{e(proof.problem)} · anchor {proof.first_bad_anchor} {e(proof.anchor_problem)}</p>"
    )
    body = fields([(label("m_total_opened", lang), f"{figures.cases_opened:,}")])
    body += f"<h2>{e(label('proof', lang))}</h2>{verdict}" + fields(
        [
            (label("rows_checked", lang), f"{proof.rows_checked:,}"),
            (label("anchors_checked", lang), f"{proof.anchors_checked:,}"),
            (label("head", lang), f"#{proof.head_seq} {proof.head_hash or ''}"),
        ]
    )
    for chart in figures.charts:
        body += f"<figure>{chart_svg(chart)}<figcaption>{e(chart.title)}</figcaption></figure>"
    for t in figures.tables:
        rows = [[*r.keys, *r.values] for r in t.rows]
        numeric = set(range(len(t.rows[0].keys), len(t.headers))) if t.rows else set()
        body += f"<h2>{e(t.title)}</h2>{table(t.headers, rows, numeric)}"
    return page(_title(figures), f"{label('generated', lang)}: {figures.generated_at}", body, lang)


def render_monthly_csv(figures: MonthlyFigures) -> str:
    """One line per figure: section, up to three dimensions, measure, value."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "exchange", "section", "key1", "key2", "key3", "measure", "value"])
    scope = figures.exchange or ""
    writer.writerow(
        [figures.month, scope, "total", "", "", "", "cases_opened", figures.cases_opened]
    )
    for t in figures.tables:
        measures = t.headers[len(t.rows[0].keys) :] if t.rows else []
        for row in t.rows:
            keys = [*row.keys, "", "", ""][:3]
            for measure, value in zip(measures, row.values, strict=True):
                writer.writerow([figures.month, scope, t.name, *keys, measure, value])
    p = figures.proof
    writer.writerow([figures.month, scope, "audit_chain", "", "", "", "verified", p.ok])
    writer.writerow([figures.month, scope, "audit_chain", "", "", "", "head_seq", p.head_seq])
    writer.writerow([figures.month, scope, "audit_chain", "", "", "", "head_hash", p.head_hash])
    return out.getvalue()
