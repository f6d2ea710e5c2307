"""Making a case pack: anchor the head, prove the chain, read the case, render one format.

Everything comes from the store, so the pack works after Temporal has deleted the run.
Rendering is CPU work: callers in an event loop run `render_case` in a thread.
"""

import asyncio
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from activities.anchors import AnchorPublisher
from config.signing import signature_checker
from domain.reports.case_pack import CasePack, build_case_pack
from reports.case_html import render_case_html
from reports.case_pdf import render_case_pdf
from reports.formats import RenderedReport, ReportFormat
from store.port import Store
from store.reports import case_facts, chain_proof


class UnknownCase(LookupError):
    """The store holds no audit row of this case."""


async def gather_case_pack(
    store: Store,
    key: Ed25519PrivateKey,
    data_dir: Path,
    case_id: str,
    lang: str,
    now: datetime,
) -> CasePack:
    """The pack of `case_id` as the store has it now, with the chain's head anchored."""
    rows, copies = await store.scan(lambda c: case_facts(c, case_id))
    if not rows:
        raise UnknownCase(case_id)
    anchor = await AnchorPublisher(store, key, data_dir, clock=lambda: now).publish("report")
    ok = signature_checker(key.public_key())
    proof = await store.scan(lambda c: chain_proof(c, anchor, ok))
    return build_case_pack(case_id, rows, copies, proof, now, lang)


def render_case(pack: CasePack, fmt: ReportFormat) -> RenderedReport:
    """The pack in `fmt` (pdf, html or json)."""
    name = f"case-{pack.case_id}-{pack.lang}.{fmt.value}"
    if fmt is ReportFormat.PDF:
        content = render_case_pdf(pack)
    elif fmt is ReportFormat.HTML:
        content = render_case_html(pack).encode()
    elif fmt is ReportFormat.JSON:
        content = pack.model_dump_json(indent=2).encode()
    else:
        raise ValueError(f"a case pack is pdf, html or json, not {fmt.value}")
    return RenderedReport(content, fmt, name)


async def case_report(
    store: Store,
    key: Ed25519PrivateKey,
    data_dir: Path,
    case_id: str,
    lang: str,
    fmt: ReportFormat,
    now: datetime,
) -> RenderedReport:
    """Gather, then render in a thread (a long PDF would hold up the event loop)."""
    pack = await gather_case_pack(store, key, data_dir, case_id, lang, now)
    return await asyncio.to_thread(render_case, pack, fmt)
