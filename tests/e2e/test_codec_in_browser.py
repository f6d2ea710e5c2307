"""The Temporal UI in headless Chromium: decoded cases for a signed-in officer, else ciphertext.

Screenshots land in the test's folder (the path is printed) so a person can look at them."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from tests.alert_bodies import alert_body
from tests.e2e.browser import Page, chromium_binary, headless_page
from tests.e2e.stack import TOKENS, RunningStack, running_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(chromium_binary() is None, reason="needs Debian's chromium (.ci/run)"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    data_dir: Path = tmp_path_factory.mktemp("keycase-ui")
    async with running_stack(data_dir, workers=1, ui=True) as running:
        yield running


async def _open_case(stack: RunningStack) -> tuple[str, str, str]:
    """A key with an open case: (account id, workflow id, run id)."""
    account_id, key_id = "acct-ui-7f3a9c", "key-ui-7f3a9c"
    async with stack.http("admin") as admin:
        account = {
            "account_id": account_id,
            "email": "o@example.com",
            "phone": "+821012345678",
            "locale": "ko",
        }
        assert (await admin.post("/v1/accounts", json=account)).status_code == 200
        key = {
            "key_id": key_id,
            "account_id": account_id,
            "exchange": "upbit",
            "permissions": ["read", "trade"],
            "allowed_ips": ["203.0.113.0/24"],
        }
        assert (await admin.post("/v1/keys", json=key)).status_code == 201
    async with stack.http("surveillance") as surveillance:
        alert = alert_body(_Key(key_id, account_id), "medium")
        assert (await surveillance.post("/v1/alerts", json=alert)).status_code == 202
    handle = stack.temporal.get_workflow_handle(f"keycase-{key_id}")
    return account_id, handle.id, (await handle.describe()).run_id


@dataclass(frozen=True)
class _Key:
    key_id: str
    account_id: str
    exchange: str = "upbit"


async def _workflow_page_text(page: Page, url: str, workflow_id: str) -> str:
    await page.goto(url)
    await page.wait_for(f"document.body.innerText.includes({workflow_id!r})")
    await page.wait_for("document.body.innerText.includes('Input')")
    # The UI asks the codec server once the history is loaded; give it time to answer.
    await page.evaluate("new Promise((done) => setTimeout(done, 3000))")
    text: str = await page.evaluate("document.body.innerText")
    return text


async def test_the_ui_shows_a_case_decoded_only_to_a_signed_in_officer(
    stack: RunningStack, tmp_path: Path
) -> None:
    account_id, workflow_id, run_id = await _open_case(stack)
    assert stack.ui_url is not None
    url = f"{stack.ui_url}/namespaces/default/workflows/{workflow_id}/{run_id}/history"
    print(f"screenshots in {tmp_path}")

    async with headless_page(tmp_path / "profile") as page:
        # The officer's one-time UI setting: send the codec server our cookie.
        await page.goto(stack.ui_url)
        codec = f"{stack.api_url}/codec"
        await page.evaluate(
            f"localStorage.setItem('endpoint', JSON.stringify({codec!r}));"
            "localStorage.setItem('overrideRemoteCodecConfiguration', 'true');"
            "localStorage.setItem('includeCredentials', 'true');"
        )
        signed_out = await _workflow_page_text(page, url, workflow_id)
        await page.screenshot(tmp_path / "signed-out.png")

        await page.goto(f"{stack.api_url}/codec/session")
        await page.evaluate(
            f"document.getElementById('t').value = {TOKENS['officer']!r};"
            "document.getElementById('f').requestSubmit()"
        )
        await page.wait_for("document.getElementById('s').textContent.startsWith('Signed in')")
        signed_in = await _workflow_page_text(page, url, workflow_id)
        await page.screenshot(tmp_path / "signed-in.png")

    # Signed out the UI says the codec server refused and shows the input as ciphertext;
    # signed in it shows the case's input (its account) and the timers' summaries.
    assert account_id not in signed_out and "monitoring window ends" not in signed_out
    assert "Codec Server could not connect" in signed_out
    assert account_id in signed_in and "monitoring window ends" in signed_in
    assert "Codec Server could not connect" not in signed_in
