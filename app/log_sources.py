"""Recorded event logs read as Kafka-ready records: our JSONL events and REES46 CSV.

Each record carries the key (the user id, UTF-8) and value bytes that would be sent to the
``events`` topic. Bad lines are not dropped here: they become records too, so that
they reach the engine's dead-letter path and every line of a log is accounted for.

- JSONL (``.jsonl``, ``.ndjson``, ``.json``, optionally ``.gz``): each non-blank line is
  sent byte for byte. Blank lines are skipped and are not records.
- REES46 CSV (``.csv``, optionally ``.gz``, header
  ``event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session``):
  each row is mapped to an event (``product_id`` -> ``item_id``, ``category_id`` ->
  ``category``, ``user_session`` -> ``session_id``). REES46 has no event id, so
  ``event_id`` is derived from a SHA-256 of the row's fields: exact duplicate rows get
  the same id and are suppressed as duplicates. A row with the wrong number of fields
  is sent as its CSV text, which the engine rejects as invalid JSON.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, cast

import orjson

from app.events import InvalidEventError, decode_event
from models.logs import REES46_COLUMNS

__all__ = [
    "REES46_COLUMNS",
    "LogLayoutError",
    "LogRecord",
    "detect_layout",
    "read_log",
    "read_logs",
    "rees46_event_id",
]

LAYOUTS = ("jsonl", "rees46")
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
_REES46_TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"


class LogLayoutError(ValueError):
    """A log file fits none of the layouts replay reads."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"{path}: {problem}; expected JSONL events (one JSON object per line, "
            "*.jsonl) or a REES46 CSV with the header " + ",".join(REES46_COLUMNS)
        )
        self.path = path


@dataclass(frozen=True)
class LogRecord:
    """One record to replay, and where it came from in its log file.

    ``event_time_ms`` is the event time when the value decodes as a valid event (used to
    pace replay at recorded speed), else None.
    """

    key: bytes | None
    value: bytes
    event_time_ms: int | None
    path: str
    line: int


def detect_layout(path: Path) -> str:
    """Return ``jsonl`` or ``rees46`` for a log file; raises LogLayoutError.

    A JSONL suffix decides by name. Any other file must start with the REES46 header, or
    with a JSON object, which makes it a JSONL log under another name.
    """
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(_JSONL_SUFFIXES):
        return "jsonl"
    try:
        with _open_binary(path) as stream:
            first = stream.readline(64 * 1024)
    except OSError as error:
        msg = f"cannot read the log ({error.strerror or error})"
        raise LogLayoutError(path, msg) from error
    header = first.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    if tuple(column.strip() for column in header.split(",")) == REES46_COLUMNS:
        return "rees46"
    if header.startswith("{"):
        return "jsonl"
    excerpt = header if len(header) <= 200 else header[:200] + "..."
    raise LogLayoutError(path, f"unknown layout (first line {excerpt!r})")


def read_logs(paths: Iterable[Path]) -> Iterator[LogRecord]:
    """Read several logs one after the other; each is checked before it is read."""
    for path in paths:
        yield from read_log(path)


def read_log(path: Path) -> Iterator[LogRecord]:
    """Read one log in the layout detect_layout finds for it."""
    layout = detect_layout(path)
    if layout == "jsonl":
        return _read_jsonl(path)
    return _read_rees46(path)


def rees46_event_id(row: list[str]) -> str:
    """Derive a stable event id from a REES46 row's fields (identical rows, identical id)."""
    digest = hashlib.sha256("\x1f".join(row).encode("utf-8")).hexdigest()
    return f"rees46-{digest[:32]}"


def _open_binary(path: Path) -> BinaryIO:
    if path.name.lower().endswith(".gz"):
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def _read_jsonl(path: Path) -> Iterator[LogRecord]:
    with _open_binary(path) as stream:
        for line_number, line in enumerate(stream, start=1):
            value = line.rstrip(b"\r\n")
            if not value.strip():
                continue
            key, event_time_ms = _key_and_time(value)
            yield LogRecord(key, value, event_time_ms, str(path), line_number)


def _key_and_time(value: bytes) -> tuple[bytes | None, int | None]:
    """Return the record key (user_id) and event time of a JSON line, where readable."""
    try:
        event = decode_event(value)
    except InvalidEventError:
        try:
            document = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None, None
        user_id = document.get("user_id") if isinstance(document, dict) else None
        return (user_id.encode("utf-8") if isinstance(user_id, str) else None), None
    return event.user_id.encode("utf-8"), event.event_time_ms


def _read_rees46(path: Path) -> Iterator[LogRecord]:
    with _open_binary(path) as binary:
        # Invalid UTF-8 is replaced instead of stopping the replay; such a row still
        # becomes a record and is judged by the event rules.
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.reader(text)
        next(reader, None)  # the header, checked by detect_layout
        for row in reader:
            if not row:
                continue
            line_number = reader.line_num
            if len(row) != len(REES46_COLUMNS):
                key = row[7].encode("utf-8") if len(row) > 7 else None
                value = ",".join(row).encode("utf-8")
                yield LogRecord(key, value, None, str(path), line_number)
                continue
            value = orjson.dumps(_rees46_event(row))
            key, event_time_ms = _key_and_time(value)
            yield LogRecord(row[7].encode("utf-8"), value, event_time_ms, str(path), line_number)


def _rees46_event(row: list[str]) -> dict[str, object]:
    event_time, event_type, product_id, category_id, category_code, brand, price, user, session = (
        row
    )
    return {
        "event_id": rees46_event_id(row),
        "user_id": user,
        "session_id": session or None,
        "event_time": _rees46_time(event_time),
        "event_type": event_type,
        "item_id": product_id,
        "category": category_id or None,
        "category_code": category_code or None,
        "brand": brand or None,
        "price": _rees46_price(price),
    }


def _rees46_time(raw: str) -> str:
    """Convert ``2019-10-01 00:00:05 UTC`` to ISO-8601; other text passes through unchanged."""
    try:
        moment = datetime.strptime(raw, _REES46_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return raw
    return moment.isoformat()


def _rees46_price(raw: str) -> float | str:
    """Return the price as a number, or the text itself when it is not a finite number."""
    try:
        price = float(raw)
    except ValueError:
        return raw
    return price if math.isfinite(price) else raw
