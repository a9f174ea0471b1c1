from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
import pytest

from app.dead_letter import (
    DeadLetter,
    DeadLetterDecodeError,
    decode_dead_letter,
    encode_dead_letter,
)
from app.source import Source


def _dead_letter(raw: bytes | None, key: bytes | None = b"u1") -> DeadLetter:
    return DeadLetter(
        reason="invalid_json",
        error="value is not valid JSON",
        field=None,
        raw=raw,
        key=key,
        source=Source("events", 3, 17),
        received_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    )


def test_dead_letter_utf8_raw_as_text() -> None:
    document = orjson.loads(encode_dead_letter(_dead_letter(b'{"price": "x"}')))

    assert document["raw_text"] == '{"price": "x"}'
    assert base64.b64decode(document["raw_base64"]) == b'{"price": "x"}'
    assert document["source"] == {"topic": "events", "partition": 3, "offset": 17}
    assert document["received_at"] == "2024-05-01T12:00:00Z"


def test_dead_letter_binary_raw_survives_round_trip() -> None:
    raw = b"\xff\xfe\x00\x80 not utf-8"
    encoded = encode_dead_letter(_dead_letter(raw, key=b"\xc3"))

    document = orjson.loads(encoded)
    decoded = decode_dead_letter(encoded)

    assert document["raw_text"] is None
    assert document["key_text"] is None
    assert decoded.raw == raw
    assert decoded.key == b"\xc3"
    assert decoded == _dead_letter(raw, key=b"\xc3")


def test_dead_letter_missing_value_and_key_null() -> None:
    document = orjson.loads(encode_dead_letter(_dead_letter(None, key=None)))

    assert document["raw_base64"] is None
    assert document["key_base64"] is None


def test_decode_dead_letter_garbage_raises() -> None:
    with pytest.raises(DeadLetterDecodeError):
        decode_dead_letter(b"[]")
