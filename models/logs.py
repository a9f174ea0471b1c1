"""Readers for recorded event logs in four layouts, all producing LogEvent records.

Layouts (chosen by name or detected from the first line):

- ``rees46``: REES46 e-commerce CSV, one row per event with price and category.
- ``rsc15``: YooChoose (RecSys Challenge 2015) clicks after GRU4Rec preprocessing,
  tab-separated ``SessionId ItemId Time`` with Time in Unix seconds.
- ``diginetica``: CIKM Cup 2016 ``train-item-views.csv``, semicolon-separated, time given as
  a date plus milliseconds since the session started.
- ``jsonl``: pricestream's own Event JSON, one object per line.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "FORMATS",
    "LogEvent",
    "LogFormatError",
    "LogRowError",
    "detect_format",
    "read_log",
    "read_logs",
]

REES46_COLUMNS = (
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
)
RSC15_COLUMNS = ("SessionId", "ItemId", "Time")
DIGINETICA_COLUMNS = ("session_id", "user_id", "item_id", "timeframe", "eventdate")
JSONL_REQUIRED = ("user_id", "event_time", "event_type", "item_id")
FORMATS = ("rees46", "rsc15", "diginetica", "jsonl")

_EXPECTED = {
    "rees46": "a comma-separated header " + ",".join(REES46_COLUMNS),
    "rsc15": "a tab-separated header " + " ".join(RSC15_COLUMNS),
    "diginetica": "a semicolon-separated header " + ";".join(DIGINETICA_COLUMNS),
    "jsonl": "one JSON object per line with " + ", ".join(JSONL_REQUIRED),
}
_EVENT_TYPES = {
    "view": "view",
    "click": "view",
    "cart": "cart",
    "remove_from_cart": "remove_from_cart",
    "purchase": "purchase",
}


class LogFormatError(ValueError):
    """A log file is in none of the known layouts, or not in the one requested."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path


class LogRowError(ValueError):
    """One row of a log cannot be read; ``line`` is 1-based and counts the header."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line


@dataclass(frozen=True)
class LogEvent:
    """One recorded event, in the form training and evaluation use.

    ``sequence_id`` groups the events the model reads as one sequence: the user where the
    log has users (REES46, JSONL), otherwise the session.
    """

    sequence_id: str
    session_id: str
    time_s: float  # event time, Unix seconds (UTC)
    event_type: str  # "view" | "cart" | "remove_from_cart" | "purchase"
    item_id: str
    price: float | None  # > 0 and finite, None when unknown
    category: str | None


def detect_format(path: Path) -> str:
    """Return the layout of ``path`` from its first line; raise LogFormatError if none fits."""
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            first = stream.readline().rstrip("\r\n")
    except FileNotFoundError as error:
        raise LogFormatError(path, "file not found") from error
    except (OSError, UnicodeDecodeError) as error:
        raise LogFormatError(path, f"cannot be read as UTF-8 text ({error})") from error
    if first.lstrip().startswith("{"):
        return "jsonl"
    headers = {
        "rees46": tuple(first.split(",")),
        "rsc15": tuple(first.split("\t")),
        "diginetica": tuple(first.split(";")),
    }
    expected_columns = {
        "rees46": REES46_COLUMNS,
        "rsc15": RSC15_COLUMNS,
        "diginetica": DIGINETICA_COLUMNS,
    }
    for name, columns in expected_columns.items():
        if headers[name] == columns:
            return name
    expected = "; or ".join(_EXPECTED[name] for name in FORMATS)
    problem = f"unknown log layout; expected {expected} (got first line {first[:120]!r})"
    raise LogFormatError(path, problem)


def read_logs(paths: Sequence[Path], log_format: str | None = None) -> list[LogEvent]:
    """Read every file in ``paths`` (layout ``log_format``, detected per file when None)."""
    events: list[LogEvent] = []
    for path in paths:
        events.extend(read_log(path, log_format))
    return events


def read_log(path: Path, log_format: str | None = None) -> list[LogEvent]:
    """Read one log file; raise LogFormatError or LogRowError naming the file on bad input."""
    detected = detect_format(path)
    if log_format is not None and log_format != detected:
        if log_format not in FORMATS:
            problem = f"format must be one of {', '.join(FORMATS)} (got {log_format!r})"
            raise LogFormatError(path, problem)
        problem = (
            f"--format {log_format} expects {_EXPECTED[log_format]}, "
            f"but the file looks like {detected}"
        )
        raise LogFormatError(path, problem)
    readers = {
        "rees46": _read_rees46,
        "rsc15": _read_rsc15,
        "diginetica": _read_diginetica,
        "jsonl": _read_jsonl,
    }
    return list(readers[detected](path))


def _rows(path: Path, delimiter: str, width: int) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream, delimiter=delimiter)
        next(reader)  # header, checked by detect_format
        for row in reader:
            if not row:
                continue
            if len(row) != width:
                problem = f"expected {width} fields (got {len(row)})"
                raise LogRowError(path, reader.line_num, problem)
            yield reader.line_num, row


def _price(path: Path, line: int, raw: str) -> float | None:
    """Parse a price; 0 and empty mean unknown (REES46 has views priced 0.00)."""
    if raw == "":
        return None
    try:
        value = float(raw)
    except ValueError as error:
        raise LogRowError(path, line, f"'price' must be a number (got {raw!r})") from error
    if not math.isfinite(value) or value < 0:
        raise LogRowError(path, line, f"'price' must be a finite number >= 0 (got {raw!r})")
    return value if value > 0 else None


def _event_type(path: Path, line: int, raw: str) -> str:
    event_type = _EVENT_TYPES.get(raw)
    if event_type is None:
        raise LogRowError(
            path, line, f"'event_type' must be one of {', '.join(_EVENT_TYPES)} (got {raw!r})"
        )
    return event_type


def _read_rees46(path: Path) -> Iterator[LogEvent]:
    for line, row in _rows(path, ",", len(REES46_COLUMNS)):
        event_time, event_type, product_id, category_id, _, _, price, user_id, session = row
        try:
            moment = datetime.strptime(event_time, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
        except ValueError as error:
            msg = f"'event_time' must look like 2019-10-01 00:00:00 UTC (got {event_time!r})"
            raise LogRowError(path, line, msg) from error
        yield LogEvent(
            sequence_id=user_id,
            session_id=session,
            time_s=moment.timestamp(),
            event_type=_event_type(path, line, event_type),
            item_id=product_id,
            price=_price(path, line, price),
            category=category_id or None,
        )


def _read_rsc15(path: Path) -> Iterator[LogEvent]:
    for line, (session, item_id, time) in _rows(path, "\t", len(RSC15_COLUMNS)):
        try:
            time_s = float(time)
        except ValueError as error:
            msg = f"'Time' must be Unix seconds (got {time!r})"
            raise LogRowError(path, line, msg) from error
        yield LogEvent(session, session, time_s, "view", item_id, None, None)


def _read_diginetica(path: Path) -> Iterator[LogEvent]:
    for line, (session, _, item_id, timeframe, eventdate) in _rows(
        path, ";", len(DIGINETICA_COLUMNS)
    ):
        try:
            day = datetime.strptime(eventdate, "%Y-%m-%d").replace(tzinfo=UTC)
            offset_s = int(timeframe) / 1000.0
        except ValueError as error:
            msg = (
                "'eventdate' must be YYYY-MM-DD and 'timeframe' an integer of ms "
                f"(got {eventdate!r}, {timeframe!r})"
            )
            raise LogRowError(path, line, msg) from error
        # The layout has no clock time, so sessions are placed at midnight of their date.
        yield LogEvent(session, session, day.timestamp() + offset_s, "view", item_id, None, None)


def _jsonl_time(path: Path, line: int, raw: object) -> float:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw) / 1000.0
    if isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.timestamp()
    msg = f"'event_time' must be ISO-8601 or epoch milliseconds (got {raw!r})"
    raise LogRowError(path, line, msg)


def _read_jsonl(path: Path) -> Iterator[LogEvent]:
    with path.open(encoding="utf-8") as stream:
        for line, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except ValueError as error:
                raise LogRowError(path, line, f"invalid JSON ({error})") from error
            if not isinstance(record, dict):
                problem = f"expected a JSON object (got {type(record).__name__})"
                raise LogRowError(path, line, problem)
            missing = [name for name in JSONL_REQUIRED if record.get(name) in (None, "")]
            if missing:
                raise LogRowError(path, line, f"missing required field(s) {', '.join(missing)}")
            price = record.get("price")
            if price is not None and (
                isinstance(price, bool)
                or not isinstance(price, int | float)
                or not math.isfinite(price)
                or price <= 0
            ):
                problem = f"'price' must be a finite number > 0 (got {price!r})"
                raise LogRowError(path, line, problem)
            category = record.get("category")
            user_id = str(record["user_id"])
            yield LogEvent(
                sequence_id=user_id,
                session_id=str(record.get("session_id") or user_id),
                time_s=_jsonl_time(path, line, record["event_time"]),
                event_type=_event_type(path, line, str(record["event_type"])),
                item_id=str(record["item_id"]),
                price=None if price is None else float(price),
                category=None if category in (None, "") else str(category),
            )
