"""The case pack as one self-contained HTML page (the same sections as the PDF)."""

import json

from domain.reports.case_pack import CasePack
from domain.reports.wording import label
from reports.html_doc import e, fields, page, table


def _proof(pack: CasePack) -> str:
    lang, proof = pack.lang, pack.proof
    if proof.ok:
        verdict = f'<p class="ok">{e(label("verified_ok", lang))}</p>'
    else:
        where = (
            f"row {proof.first_bad_row} ({proof.problem}) · "
            f"anchor {proof.first_bad_anchor} ({proof.anchor_problem})"
        )
        verdict = f'<p class="bad">{e(label("verified_bad", lang))}: {e(where)}</p>'
    pairs = [
        (label("rows_checked", lang), f"{proof.rows_checked:,}"),
        (label("anchors_checked", lang), f"{proof.anchors_checked:,}"),
        (label("head", lang), f"#{proof.head_seq} {proof.head_hash or ''}"),
    ]
    if proof.anchor:
        anchor = proof.anchor
        signed = f"{anchor.anchored_at.isoformat()} key {anchor.key_id} Ed25519 {anchor.signature}"
        pairs.append((label("anchor", lang), signed))
    return verdict + fields(pairs)


def _notices(pack: CasePack) -> str:
    lang = pack.lang
    parts: list[str] = []
    for n in pack.notices:
        receipts = "; ".join(
            f"{r.status} {r.at}{f' ({r.detail})' if r.detail else ''}" for r in n.receipts
        )
        parts.append(
            f"<h3>{e(n.kind)} · {e(n.channel)} · {e(n.status)}</h3>"
            + fields(
                [
                    (label("time", lang), n.sent_at),
                    (
                        label("provider_id", lang),
                        f"{n.provider or ''} {n.provider_message_id or ''}",
                    ),
                    (label("receipts", lang), receipts or label("none", lang)),
                    (label("subject", lang), n.subject or ""),
                ]
            )
            + f"<pre>{e(n.body)}</pre>"
        )
    return "".join(parts)


def render_case_html(pack: CasePack) -> str:
    """Every section and every audit row, escaped; no scripts or outside resources."""
    lang = pack.lang
    head = fields(
        [
            (label("case", lang), pack.case_id),
            (label("key", lang), pack.key_id),
            (label("exchange", lang), pack.exchange or ""),
            (label("account", lang), pack.account_id or ""),
            (label("stage", lang), pack.stage or ""),
            (label("opened", lang), pack.opened_at),
            (label("closed", lang), pack.closed_at or "—"),
            (label("policy", lang), pack.policy_version or ""),
        ]
    )
    alerts = table(
        [
            label("alerts", lang),
            "kind",
            "severity",
            label("time", lang),
            "source",
            label("evidence", lang),
        ],
        [
            [
                a.alert_id,
                a.kind,
                a.severity,
                f"{a.observed_at} → {a.received_at}",
                a.source,
                json.dumps(a.evidence, ensure_ascii=False),
            ]
            for a in pack.alerts
        ],
    )
    decisions = table(
        [label("time", lang), label("actor", lang), label("what", lang), label("reason", lang)],
        [
            [d.at, d.actor, f"{d.action}{f' [{d.detail}]' if d.detail else ''}", d.reason]
            for d in pack.decisions
        ],
    )
    kyc = table(
        [label("time", lang), label("actor", lang), label("status", lang), "reference"],
        [[k.at, k.actor, "passed" if k.passed else "failed", k.reference] for k in pack.kyc],
    )
    keys = table(
        [
            label("time", lang),
            label("actor", lang),
            label("what", lang),
            label("reason", lang),
            label("read_back", lang),
        ],
        [
            [c.at, c.actor, f"{c.change} ({c.measure})", c.reason or "", c.read_back or ""]
            for c in pack.key_changes
        ],
    )
    timeline = "".join(
        f"<tr><td class=n>{r.seq}</td><td>{e(r.at)}</td><td>{e(r.actor)}</td><td>{e(r.text)}"
        f'<br><span class="mono">{e(r.event_type)} {e(r.row_hash)}</span></td></tr>'
        for r in pack.timeline
    )
    body = (
        head
        + f"<h2>{e(label('proof', lang))}</h2>{_proof(pack)}"
        + f"<h2>{e(label('alerts', lang))} ({len(pack.alerts)})</h2>{alerts}"
        + f"<h2>{e(label('notices', lang))} ({len(pack.notices)})</h2>{_notices(pack)}"
        + f"<h2>{e(label('decisions', lang))} ({len(pack.decisions)})</h2>{decisions}"
        + f"<h2>{e(label('kyc', lang))} ({len(pack.kyc)})</h2>{kyc}"
        + f"<h2>{e(label('key_changes', lang))} ({len(pack.key_changes)})</h2>{keys}"
        + f"<h2>{e(label('timeline', lang))} ({len(pack.timeline):,})</h2>"
        + f"<table><thead><tr><th>{e(label('seq', lang))}</th><th>{e(label('time', lang))}</th>"
        + f"<th>{e(label('actor', lang))}</th><th>{e(label('what', lang))}</th></tr></thead>"
        + f"<tbody>{timeline}</tbody></table>"
    )
    return page(
        f"{label('case_report', lang)} · {pack.case_id}",
        f"{label('generated', lang)}: {pack.generated_at}",
        body,
        lang,
    )
