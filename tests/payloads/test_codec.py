"""The payload codec: AES-256-GCM under the newest key, old keys still open, plain passes."""

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

from payloads.codec import ENCODING, KEY_ID, AesGcmCodec, PayloadDecryptError
from payloads.converter import converter_for
from payloads.keyring import PayloadKeys, generate_key_entry
from tests.temporal import TEST_PAYLOAD_KEYS

SECRET = b'{"email":"owner@example.com","phone":"+821012345678"}'


def _plain(data: bytes = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


async def test_a_payload_is_ciphertext_naming_the_newest_key_and_decodes_back() -> None:
    keys = PayloadKeys.parse(TEST_PAYLOAD_KEYS)
    codec = AesGcmCodec(keys)

    [sealed] = await codec.encode([_plain()])

    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"ktest2"
    assert b"owner@example.com" not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()  # the inner metadata is sealed too
    assert await codec.decode([sealed]) == [_plain()]


async def test_after_a_rotation_old_payloads_decode_and_new_ones_use_the_new_key() -> None:
    old = AesGcmCodec(PayloadKeys.parse(TEST_PAYLOAD_KEYS))
    [recorded] = await old.encode([_plain()])
    rotated = AesGcmCodec(PayloadKeys.parse(f"{generate_key_entry()},{TEST_PAYLOAD_KEYS}"))

    [fresh] = await rotated.encode([_plain()])

    assert await rotated.decode([recorded]) == [_plain()]
    assert fresh.metadata[KEY_ID] not in (b"ktest1", b"ktest2")
    with pytest.raises(PayloadDecryptError, match="no payload key"):
        await old.decode([fresh])


async def test_plain_payloads_recorded_before_encryption_decode_as_they_are() -> None:
    codec = AesGcmCodec(PayloadKeys.parse(TEST_PAYLOAD_KEYS))

    assert await codec.decode([_plain()]) == [_plain()]


async def test_a_tampered_payload_or_a_swapped_key_id_does_not_open() -> None:
    codec = AesGcmCodec(PayloadKeys.parse(TEST_PAYLOAD_KEYS))
    [sealed] = await codec.encode([_plain()])
    flipped = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    swapped = Payload(metadata={**sealed.metadata, KEY_ID: b"ktest1"}, data=sealed.data)

    for bad in (flipped, swapped):
        with pytest.raises(PayloadDecryptError, match="does not open"):
            await codec.decode([bad])


def test_the_converter_encrypts_pydantic_payloads_and_failures() -> None:
    converter = converter_for(PayloadKeys.parse(TEST_PAYLOAD_KEYS))

    assert isinstance(converter.payload_codec, AesGcmCodec)
    assert isinstance(converter.failure_converter, DefaultFailureConverterWithEncodedAttributes)
    assert converter_for(None).payload_codec is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no keys"),
        ("k1", "expected id:base64key"),
        ("k 1:AAAA", "expected id:base64key"),
        ("k1:!!!", "not base64"),
        ("k1:AAAA", "not 32 bytes"),
        (f"{TEST_PAYLOAD_KEYS.split(',')[0]},{TEST_PAYLOAD_KEYS.split(',')[0]}", "used twice"),
    ],
)
def test_a_bad_key_spec_is_refused_naming_the_entry(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PayloadKeys.parse(spec)
