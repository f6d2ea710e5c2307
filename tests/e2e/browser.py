"""A headless Chromium (Debian's `chromium`) driven over the DevTools protocol."""

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import websockets


def chromium_binary() -> str | None:
    """Where Debian's chromium is, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One tab: navigate, run JavaScript, take screenshots."""

    def __init__(self, socket: websockets.ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and wait for its answer (events in between are skipped)."""
        call_id = next(self._ids)
        await self._socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self._socket.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def goto(self, url: str) -> None:
        """Load `url` and wait until the document has loaded."""
        await self.call("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete'")

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (promises awaited)."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        return result["result"].get("value")

    async def wait_for(self, expression: str, seconds: float = 30) -> None:
        """Poll until a JavaScript expression is true."""
        deadline = asyncio.get_running_loop().time() + seconds
        while not await self.evaluate(f"Boolean({expression})"):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"never true: {expression}")
            await asyncio.sleep(0.3)

    async def screenshot(self, path: Path) -> None:
        """Save the viewport as PNG."""
        shot = await self.call("Page.captureScreenshot", format="png")
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))


@asynccontextmanager
async def headless_page(profile: Path) -> AsyncIterator[Page]:
    """A fresh Chromium profile in `profile` with one open tab."""
    binary = chromium_binary()
    assert binary is not None, "chromium is not installed"
    process = await asyncio.create_subprocess_exec(
        binary,
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--no-first-run",
        "--window-size=1400,1000",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port = await _devtools_port(profile / "DevToolsActivePort", process)
        async with httpx.AsyncClient() as http:
            targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
        page_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        async with websockets.connect(page_url, max_size=None) as socket:
            page = Page(socket)
            await page.call("Page.enable")
            yield page
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


async def _devtools_port(announced: Path, process: asyncio.subprocess.Process) -> int:
    for _ in range(200):
        if process.returncode is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        if lines := await asyncio.to_thread(_lines, announced):
            return int(lines[0])
        await asyncio.sleep(0.1)
    raise TimeoutError("chromium announced no DevTools port")


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
