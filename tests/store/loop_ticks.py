"""How often the event loop got to run while a test waited: a blocked loop ticks not at all."""

import asyncio
from types import TracebackType


class LoopTicks:
    """`async with LoopTicks(0.01) as ticks:` … then `ticks.count`."""

    def __init__(self, interval: float) -> None:
        self.count = 0
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "LoopTicks":
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._task is not None
        self._task.cancel()

    async def _tick(self) -> None:
        while True:
            self.count += 1
            await asyncio.sleep(self._interval)
