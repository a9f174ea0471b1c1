from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from app.events import decode_event
from app.log_sources import (
    REES46_COLUMNS,
    LogLayoutError,
    detect_layout,
    read_log,
    read_logs,
    rees46_event_id,
)

HEADER = ",".join(REES46_COLUMNS)
ROW = (
    "2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,"
    "72d76fde-8bb3-4e00-8c23-a032dfed738c"
)


def _write(path: Path, text: str | bytes) -> Path:
    data = text.encode() if isinstance(text, str) else text
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def test_rees46_row_mapped_to_event(tmp_path: Path) -> None:
    log = _write(tmp_path / "log.csv", f"{HEADER}\r\n{ROW}\r\n")

    (record,) = list(read_log(log))

    event = decode_event(record.value)
    assert record.key == b"541312140"
    assert record.line == 2
    assert record.path == str(log)
    assert event.user_id == "541312140"
    assert event.item_id == "44600062"
    assert event.category == "2103807459595387724"
    assert event.brand == "shiseido"
    assert event.price == 35.79
    assert event.session_id == "72d76fde-8bb3-4e00-8c23-a032dfed738c"
    assert event.event_time.isoformat() == "2019-10-01T00:00:00+00:00"
    assert event.event_id == rees46_event_id(ROW.split(","))
    assert record.event_time_ms == event.event_time_ms
    assert orjson.loads(record.value)["category_code"] is None


def test_rees46_identical_rows_same_event_id(tmp_path: Path) -> None:
    other = ROW.replace("35.79", "35.80")
    log = _write(tmp_path / "log.csv", f"{HEADER}\n{ROW}\n{ROW}\n{other}\n")

    ids = [orjson.loads(record.value)["event_id"] for record in read_log(log)]

    assert ids[0] == ids[1]
    assert ids[2] != ids[0]


def test_rees46_gzip_read(tmp_path: Path) -> None:
    log = _write(tmp_path / "log.csv.gz", f"{HEADER}\n{ROW}\n")

    assert detect_layout(log) == "rees46"
    assert len(list(read_log(log))) == 1


def test_rees46_bad_rows_still_records(tmp_path: Path) -> None:
    short = "2019-10-01 00:00:00 UTC,view,1,2"
    bad_time = ROW.replace("2019-10-01 00:00:00 UTC", "yesterday")
    bad_price = ROW.replace("35.79", "abc")
    log = _write(tmp_path / "log.csv", f"{HEADER}\n{short}\n{bad_time}\n{bad_price}\n")

    records = list(read_log(log))

    assert len(records) == 3
    assert records[0].value == short.encode()
    assert records[0].key is None
    assert orjson.loads(records[1].value)["event_time"] == "yesterday"
    assert records[1].event_time_ms is None
    assert orjson.loads(records[2].value)["price"] == "abc"


def test_jsonl_lines_sent_as_is(tmp_path: Path) -> None:
    good = (
        b'{"event_id":"e1","user_id":"u1","event_time":1569888000000,'
        b'"event_type":"view","item_id":"i1","price":2.5}'
    )
    no_user = b'{"event_id":"e2"}'
    lines = [good, b"", b"{broken", b"  ", b"\xff\xfe binary", no_user]
    log = _write(tmp_path / "events.jsonl", b"\r\n".join(lines) + b"\n")

    records = list(read_log(log))

    assert [record.value for record in records] == [good, b"{broken", b"\xff\xfe binary", no_user]
    assert [record.line for record in records] == [1, 3, 5, 6]
    assert records[0].key == b"u1"
    assert records[0].event_time_ms == 1569888000000
    assert records[1].key is None
    assert records[3].key is None


def test_jsonl_detected_by_content(tmp_path: Path) -> None:
    log = _write(tmp_path / "events.log", '{"event_id": "e1"}\n')

    assert detect_layout(log) == "jsonl"


def test_unknown_layout_error_names_file_and_columns(tmp_path: Path) -> None:
    log = _write(tmp_path / "retail.csv", "InvoiceNo,StockCode,Quantity\n1,2,3\n")

    with pytest.raises(LogLayoutError) as caught:
        detect_layout(log)

    message = str(caught.value)
    assert str(log) in message
    assert "InvoiceNo,StockCode,Quantity" in message
    assert HEADER in message
    assert caught.value.path == log


def test_read_logs_concatenates_in_order(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.csv", f"{HEADER}\n{ROW}\n")
    second = _write(tmp_path / "b.csv", f"{HEADER}\n{ROW.replace('35.79', '1.00')}\n")

    records = list(read_logs([first, second]))

    assert [record.path for record in records] == [str(first), str(second)]
