"""`keycase audit …` against the store itself: verify against an anchors file, export, anchor.

These open the store named by the settings (like `keycase migrate`) and the anchor signing
key, so they work with no API or Temporal running: an auditor holding an anchors file
kept elsewhere checks the database directly.
"""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rich.console import Console

from activities.anchors import AnchorPublisher
from config.settings import Settings
from config.signing import signature_checker, signing_key
from domain.anchors import Anchor
from store.anchors import (
    ChainVerification,
    anchors_jsonl,
    parse_anchors_jsonl,
    stored_anchors,
    verify_anchored,
)
from store.engine import open_store

T = TypeVar("T")


async def _scan(settings: Settings, work: Callable[..., T]) -> T:
    store = open_store(settings.effective_database_url)
    try:
        return await store.scan(work)
    finally:
        await store.close()


def verify_with_file(settings: Settings, path: Path) -> ChainVerification:
    """The chain checked, then checked against the anchors in `path` (JSON lines)."""
    anchors = parse_anchors_jsonl(path.read_text())
    ok = signature_checker(signing_key(settings).public_key())
    return asyncio.run(_scan(settings, lambda c: verify_anchored(c, ok, anchors)))


def export_anchors(settings: Settings) -> str:
    """Every stored anchor as the anchors file's text."""
    return anchors_jsonl(asyncio.run(_scan(settings, stored_anchors)))


def anchor_now(settings: Settings) -> Anchor | None:
    """Sign and store the chain's head now (and append it to the data folder's file)."""

    async def run() -> Anchor | None:
        store = open_store(settings.effective_database_url)
        try:
            publisher = AnchorPublisher(store, signing_key(settings), settings.data_dir)
            return await publisher.publish("manual")
        finally:
            await store.close()

    return asyncio.run(run())


def print_verification(console: Console, result: ChainVerification) -> None:
    """One line for the chain, one for its anchors, in red where something is wrong."""
    if result.first_bad_row is None:
        console.print(f"[green]audit chain verified[/]: {result.rows_checked} rows")
    else:
        console.print(
            f"[red]audit chain broken[/] at row {result.first_bad_row} ({result.problem})"
        )
    if result.anchor_problem is None:
        console.print(f"[green]anchors match[/]: {result.anchors_checked} checked")
    else:
        at = result.first_bad_anchored_at.isoformat() if result.first_bad_anchored_at else "?"
        console.print(
            f"[red]anchor at row {result.first_bad_anchor} (signed {at}) no longer matches[/]: "
            f"{result.anchor_problem}"
        )
