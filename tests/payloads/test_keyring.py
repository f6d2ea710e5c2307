"""The local stack's payload key: made once in the data folder, owner-only, shared by all."""

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import SecretStr

from config.settings import Settings
from payloads.converter import payload_keys
from payloads.keyring import KEYS_FILE, PayloadKeys, load_or_create_keys
from tests.temporal import TEST_PAYLOAD_KEYS


def test_the_key_file_is_made_once_owner_only_and_everyone_starting_together_reads_it(
    tmp_path: Path,
) -> None:
    with ThreadPoolExecutor(8) as pool:
        specs = set(pool.map(lambda _: load_or_create_keys(tmp_path), range(16)))

    assert len(specs) == 1
    PayloadKeys.parse(specs.pop())
    mode = stat.S_IMODE((tmp_path / KEYS_FILE).stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [KEYS_FILE]  # no drafts left behind


def test_settings_keys_win_over_the_file_and_encryption_can_be_switched_off(
    tmp_path: Path,
) -> None:
    configured = Settings(
        _env_file=None, data_dir=tmp_path, payload_keys=SecretStr(TEST_PAYLOAD_KEYS)
    )
    from_file = Settings(_env_file=None, data_dir=tmp_path)
    off = Settings(_env_file=None, data_dir=tmp_path, payload_encryption=False)

    assert payload_keys(configured) == PayloadKeys.parse(TEST_PAYLOAD_KEYS)
    assert not (tmp_path / KEYS_FILE).exists()
    assert payload_keys(from_file) == PayloadKeys.parse((tmp_path / KEYS_FILE).read_text())
    assert payload_keys(off) is None
