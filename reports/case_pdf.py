"""The case pack as a PDF: page one answers "what happened and can we trust it", then the
alerts, the notices as received, decisions, KYC, key changes, and every audit row."""

import json

from domain.reports.case_pack import CasePack, ChainProof
from domain.reports.kst import kst
from domain.reports.wording import label
from reports.pdf_doc import BAD, GOOD, INK, MUTED, ReportDocument


def _verdict(proof: ChainProof, lang: str) -> tuple[str, tuple[int, int, int]]:
    if proof.ok:
        return label("verified_ok", lang), GOOD
    where = (
        f"row {proof.first_bad_row} ({proof.problem})"
        if proof.first_bad_row is not None
        else f"anchor {proof.first_bad_anchor} ({proof.anchor_problem})"
    )
    return f"{label('verified_bad', lang)}: {where}", BAD


def _proof(doc: ReportDocument, pack: CasePack) -> None:
    proof_fields(doc, pack.proof, pack.lang)


def proof_fields(doc: ReportDocument, proof: ChainProof, lang: str) -> None:
    """The chain's verdict, head and anchor, as label/value lines."""
    verdict, color = _verdict(proof, lang)
    doc.field(label("verified", lang), verdict, color=color)
    doc.field(label("rows_checked", lang), f"{proof.rows_checked:,}")
    doc.field(label("anchors_checked", lang), f"{proof.anchors_checked:,}")
    doc.field(label("head", lang), f"#{proof.head_seq}" if proof.head_seq else label("none", lang))
    if proof.head_hash:
        doc.mono(proof.head_hash, size=8, color=INK)
    if proof.anchor:
        signed = f"{kst(proof.anchor.anchored_at)} · key {proof.anchor.key_id}"
        doc.field(label("anchor", lang), signed)
        doc.mono(f"Ed25519 {proof.anchor.signature}", size=6.5)


def _front(doc: ReportDocument, pack: CasePack) -> None:
    lang = pack.lang
    doc.title_block(
        label("case_report", lang),
        f"{pack.case_id}\n{label('generated', lang)}: {pack.generated_at}",
    )
    doc.section(label("outcome", lang))
    verdict, color = _verdict(pack.proof, lang)
    for name, value in (
        ("stage", pack.stage or ""),
        ("why", pack.close_reason or label("still_open", lang)),
        ("closed", pack.closed_at or label("still_open", lang)),
        ("first_told", pack.first_told_at or label("none", lang)),
        ("key_expired", pack.key_expired_at or "—"),
    ):
        doc.field(label(name, lang), value, width=52)
    doc.field(label("proof", lang), verdict, width=52, color=color)
    doc.section(label("case", lang))
    for name, value in (
        ("case", pack.case_id),
        ("key", pack.key_id),
        ("exchange", pack.exchange or ""),
        ("account", pack.account_id or ""),
        ("opened", pack.opened_at),
        ("policy", pack.policy_version or ""),
    ):
        doc.field(label(name, lang), value, width=52)
    doc.section(label("summary", lang))
    for name, count in (
        ("alerts", len(pack.alerts)),
        ("notices", len(pack.notices)),
        ("decisions", len(pack.decisions)),
        ("kyc", len(pack.kyc)),
        ("key_changes", len(pack.key_changes)),
        ("rows", len(pack.timeline)),
    ):
        doc.field(label(name, lang), f"{count:,}", width=52)
    doc.section(label("proof", lang))
    _proof(doc, pack)


def _alerts(doc: ReportDocument, pack: CasePack) -> None:
    lang = pack.lang
    doc.section(f"{label('alerts', lang)} ({len(pack.alerts)})")
    for alert in pack.alerts:
        doc.subheading(f"{alert.kind} · {alert.severity} · {alert.alert_id}")
        doc.field(label("time", lang), f"{alert.observed_at} → {alert.received_at}")
        doc.field(label("source", lang), alert.source)
        doc.field(label("evidence", lang), json.dumps(alert.evidence, ensure_ascii=False, indent=1))


def _notices(doc: ReportDocument, pack: CasePack) -> None:
    lang = pack.lang
    doc.section(f"{label('notices', lang)} ({len(pack.notices)})")
    for notice in pack.notices:
        doc.subheading(f"{notice.kind} · {notice.channel} · {notice.status}")
        doc.field(label("time", lang), notice.sent_at)
        doc.field(
            label("provider_id", lang),
            f"{notice.provider or ''} {notice.provider_message_id or ''}",
        )
        receipts = "; ".join(
            f"{r.status} {r.at}{f' ({r.detail})' if r.detail else ''}" for r in notice.receipts
        )
        doc.field(label("receipts", lang), receipts or label("none", lang))
        if notice.subject:
            doc.field(label("subject", lang), notice.subject)
        doc.boxed(notice.body)


def _decisions(doc: ReportDocument, pack: CasePack) -> None:
    lang = pack.lang
    doc.section(f"{label('decisions', lang)} ({len(pack.decisions)})")
    for d in pack.decisions:
        detail = f" [{d.detail}]" if d.detail else ""
        doc.field(d.at, f"{d.action} — {d.actor}: {d.reason}{detail}", width=44)
    doc.section(f"{label('kyc', lang)} ({len(pack.kyc)})")
    for k in pack.kyc:
        verdict = (
            ("통과" if k.passed else "실패")
            if lang == "ko"
            else ("passed" if k.passed else "failed")
        )
        doc.field(k.at, f"{verdict} · {k.reference} · {k.actor}", width=44)
    doc.section(f"{label('key_changes', lang)} ({len(pack.key_changes)})")
    for change in pack.key_changes:
        doc.field(
            change.at, f"{change.change} ({change.measure}) — {change.reason or ''}", width=44
        )
        if change.read_back:
            doc.field("", change.read_back, width=44)


def _timeline(doc: ReportDocument, pack: CasePack) -> None:
    """Every row: number, KST time, actor and words on one line, its hash under it.

    Written with `text()` at computed positions rather than cells: a case of 5,000 rows
    is 10,000 lines, and fpdf2's cell machinery costs several times more per line.
    """
    lang = pack.lang
    doc.add_page()
    doc.section(f"{label('timeline', lang)} ({len(pack.timeline):,})")
    left = doc.l_margin
    words_x = left + 75
    room = doc.w - doc.r_margin - words_x
    for row in pack.timeline:
        if doc.get_y() + 9 > doc.page_break_trigger:
            doc.add_page()
        y = doc.get_y()
        doc.set_font("nanum", "B", 8)
        doc.set_text_color(*INK)
        doc.text(left, y + 3, f"#{row.seq}")
        doc.set_font("nanum", "", 8)
        doc.text(left + 14, y + 3, row.at)
        doc.set_text_color(*MUTED)
        doc.text(left + 51, y + 3, row.actor[:18])
        doc.set_text_color(*INK)
        if doc.get_string_width(row.text) <= room:
            doc.text(words_x, y + 3, row.text)
            doc.set_y(y + 4)
        else:
            doc.set_xy(words_x, y)
            doc.multi_cell(room, 4, row.text, new_x="LMARGIN", new_y="NEXT")
        y = doc.get_y()
        doc.set_font("mono", "", 6.2)
        doc.set_text_color(*MUTED)
        doc.text(left, y + 2.2, f"{row.event_type}  {row.row_hash}")
        doc.set_y(y + 3.6)


def render_case_pdf(pack: CasePack) -> bytes:
    """The whole pack; nothing is left out however long the timeline is."""
    doc = ReportDocument(
        f"keycase {pack.case_id}", f"keycase · {pack.case_id} · {pack.generated_at}"
    )
    _front(doc, pack)
    _alerts(doc, pack)
    _notices(doc, pack)
    _decisions(doc, pack)
    _timeline(doc, pack)
    return doc.render()
