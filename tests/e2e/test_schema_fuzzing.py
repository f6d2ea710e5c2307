"""The API fuzzed from its own OpenAPI (schemathesis): no 5xx, and every answer as documented.

Every operation is called with every role's token, with data the schema allows and with
data it does not, a bounded number of examples each. Each response must not be a server
error, and its status code, content type and body must be the ones the schema documents.
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Err

from tests.e2e.stack import TOKENS, RunningStack, running_stack
from tests.fakes.webhook_signing import SendGridSigner

pytestmark = pytest.mark.e2e

EXAMPLES = 5  # per operation, role and generation mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    data_dir: Path = tmp_path_factory.mktemp("keycase-fuzz")
    # Configured webhooks, so that unsigned calls meet the signature check (401).
    extra = {"KEYCASE_SENDGRID_WEBHOOK_PUBLIC_KEY": SendGridSigner().public_key}
    async with running_stack(data_dir, workers=1, extra_env=extra) as running:
        yield running


def _fuzz(api_url: str) -> list[str]:
    """Run every operation with every role and mode; the failures, one line each."""
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"the OpenAPI has an unusable operation: {result.err()}")
            continue
        operation = result.ok()
        for role, token in TOKENS.items():
            for mode in GenerationMode:
                try:
                    _examples(api_url, operation, mode, {"Authorization": f"Bearer {token}"})
                except Unsatisfiable:
                    continue  # nothing to make invalid: an operation without parameters
                except (Exception, BaseExceptionGroup) as failure:  # with the case that shows it
                    failures.append(f"{operation.label} as {role} ({mode.value}): {failure}")
    return failures


def _examples(
    api_url: str,
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    headers: dict[str, str],
) -> None:
    """Call the operation with EXAMPLES generated cases; raises the first failed check."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def one(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=api_url, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS)

    one()


async def test_no_operation_answers_5xx_or_off_schema_for_any_role(stack: RunningStack) -> None:
    failures = await asyncio.to_thread(_fuzz, stack.api_url)

    assert failures == [], "\n\n".join(failures)
