r"""Dead-letter records: an input that could not be processed, with its original bytes.

JSON layout (orjson)::

    {"reason": "invalid_price", "error": "'price' must be ...", "field": "price",
     "raw_base64": "eyJldmVudF9pZCI6...", "raw_text": "{\"event_id\": ...}",
     "key_base64": "dTE=", "key_text": "u1",
     "source": {"topic": "events", "partition": 0, "offset": 17},
     "received_at": "2024-05-01T12:00:00.123456Z"}

``raw_base64`` always carries the record value byte for byte (null when the record had
no value), so input that is not UTF-8 survives. ``raw_text`` repeats it as text when the
bytes are valid UTF-8, for people reading the topic, and is null otherwise. The record
key is carried the same way in ``key_base64`` and ``key_text``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from app.source import Source

__all__ = ["DeadLetter", "DeadLetterDecodeError", "decode_dead_letter", "encode_dead_letter"]


class DeadLetterDecodeError(ValueError):
    """Bytes that do not hold a dead-letter record in the layout of this module."""


@dataclass(frozen=True)
class DeadLetter:
    """One rejected record: why it was rejected, its original bytes and where it came from."""

    reason: str
    error: str
    field: str | None
    raw: bytes | None
    key: bytes | None
    source: Source
    received_at: datetime


def encode_dead_letter(dead_letter: DeadLetter) -> bytes:
    """Encode a dead letter as one JSON object (see the module docstring for the layout)."""
    raw_base64, raw_text = _bytes_fields(dead_letter.raw)
    key_base64, key_text = _bytes_fields(dead_letter.key)
    document = {
        "reason": dead_letter.reason,
        "error": dead_letter.error,
        "field": dead_letter.field,
        "raw_base64": raw_base64,
        "raw_text": raw_text,
        "key_base64": key_base64,
        "key_text": key_text,
        "source": {
            "topic": dead_letter.source.topic,
            "partition": dead_letter.source.partition,
            "offset": dead_letter.source.offset,
        },
        "received_at": dead_letter.received_at.astimezone(UTC),
    }
    return orjson.dumps(document, option=orjson.OPT_UTC_Z)


def decode_dead_letter(data: bytes) -> DeadLetter:
    """Decode bytes written by encode_dead_letter; raises DeadLetterDecodeError."""
    try:
        document = orjson.loads(data)
        source = document["source"]
        return DeadLetter(
            reason=document["reason"],
            error=document["error"],
            field=document["field"],
            raw=_from_base64(document["raw_base64"]),
            key=_from_base64(document["key_base64"]),
            source=Source(
                topic=source["topic"], partition=source["partition"], offset=source["offset"]
            ),
            received_at=datetime.fromisoformat(document["received_at"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, binascii.Error) as error:
        msg = f"not a dead-letter record: {error}"
        raise DeadLetterDecodeError(msg) from error


def _bytes_fields(data: bytes | None) -> tuple[str | None, str | None]:
    if data is None:
        return None, None
    encoded = base64.b64encode(data).decode("ascii")
    try:
        text: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return encoded, text


def _from_base64(value: Any) -> bytes | None:
    if value is None:
        return None
    return base64.b64decode(value, validate=True)
