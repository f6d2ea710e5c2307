"""The one Temporal data converter: pydantic JSON, then AES-256-GCM, failures included."""

import dataclasses

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes

from config.settings import Settings
from payloads.codec import AesGcmCodec
from payloads.keyring import PayloadKeys, load_or_create_keys


def converter_for(keys: PayloadKeys | None) -> DataConverter:
    """pydantic payloads encrypted under `keys` (None: plain, for the benchmark's baseline)."""
    if keys is None:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=AesGcmCodec(keys),
        # Failure messages and stack traces can quote inputs: encode them as payloads too.
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def payload_keys(settings: Settings) -> PayloadKeys | None:
    """The configured keys, else the data folder's (created once); None when encryption is off."""
    if not settings.payload_encryption:
        return None
    if settings.payload_keys is not None:
        return PayloadKeys.parse(settings.payload_keys.get_secret_value())
    return PayloadKeys.parse(load_or_create_keys(settings.data_dir))


def data_converter(settings: Settings) -> DataConverter:
    """The converter every keycase client and worker uses."""
    return converter_for(payload_keys(settings))
