"""The dev server invocation: where it listens, where it keeps state, what it registers."""

from pathlib import Path

import pytest

from cli.http import api_base_url
from config.settings import Settings
from domain.search_attributes import SEARCH_ATTRIBUTES
from local_stack.devserver import dev_server_command, split_address


def flag_values(command: list[str], flag: str) -> list[str]:
    return [command[i + 1] for i, part in enumerate(command) if part == flag]


def test_dev_server_listens_where_settings_say_and_keeps_state_in_a_sqlite_file() -> None:
    command = dev_server_command(
        "127.0.0.1:17233",
        18233,
        Path("/data/temporal.db"),
        http_port=17243,
        metrics_port=17244,
    )

    assert command[1:3] == ["server", "start-dev"]
    assert flag_values(command, "--ip") == ["127.0.0.1"]
    assert flag_values(command, "--port") == ["17233"]
    assert flag_values(command, "--ui-port") == ["18233"]
    # Left out, the dev server would take random ports someone else may be about to use.
    assert flag_values(command, "--http-port") == ["17243"]
    assert flag_values(command, "--metrics-port") == ["17244"]
    assert flag_values(command, "--db-filename") == ["/data/temporal.db"]
    assert flag_values(command, "--sqlite-pragma") == ["journal_mode=wal", "synchronous=normal"]
    assert "--headless" not in command


def test_dev_server_registers_every_search_attribute_keycase_uses() -> None:
    command = dev_server_command(
        "127.0.0.1:7233", 8233, Path("t.db"), http_port=7243, metrics_port=7244
    )

    registered = dict(v.split("=") for v in flag_values(command, "--search-attribute"))
    assert registered == SEARCH_ATTRIBUTES


@pytest.mark.parametrize("address", ["7233", "127.0.0.1", ":7233", "host:port"])
def test_malformed_temporal_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        split_address(address)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000"),
        ("0.0.0.0", "http://127.0.0.1:8000"),
        ("::1", "http://[::1]:8000"),
    ],
)
def test_cli_reaches_the_api_where_it_listens(host: str, url: str) -> None:
    assert api_base_url(Settings(api_host=host, api_port=8000)) == url
