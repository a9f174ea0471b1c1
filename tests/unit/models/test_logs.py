from pathlib import Path

import pytest

from models.logs import LogFormatError, LogRowError, detect_format, read_log

REES46_HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_rees46_rows_parsed(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "r.csv",
        REES46_HEADER + "\r\n"
        "2019-10-01 00:00:01 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,s1\r\n"
        "2019-10-01 00:00:05 UTC,purchase,3900821,2053013552326770905,a.b,aqua,0.00,"
        "541312140,s1\r\n",
    )

    events = read_log(path)

    assert detect_format(path) == "rees46"
    assert len(events) == 2
    assert events[0].sequence_id == "541312140"
    assert events[0].session_id == "s1"
    assert events[0].time_s == 1569888001.0
    assert events[0].price == 35.79
    assert events[0].category == "2103807459595387724"
    assert events[1].event_type == "purchase"
    assert events[1].price is None


def test_rsc15_rows_parsed(tmp_path: Path) -> None:
    path = _write(tmp_path, "y.txt", "SessionId\tItemId\tTime\n3\t214716935\t1396437466.94\n")

    (event,) = read_log(path)

    assert detect_format(path) == "rsc15"
    assert event.sequence_id == "3"
    assert event.item_id == "214716935"
    assert event.time_s == 1396437466.94
    assert event.event_type == "view"
    assert event.price is None


def test_diginetica_time_is_date_plus_offset(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "d.csv",
        "session_id;user_id;item_id;timeframe;eventdate\n1;NA;81766;526309;2016-05-09",
    )

    (event,) = read_log(path)

    assert detect_format(path) == "diginetica"
    assert event.sequence_id == "1"
    assert event.time_s == pytest.approx(1462752000.0 + 526.309)


def test_jsonl_click_iso_and_epoch_ms(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "e.jsonl",
        '{"event_id": "a", "user_id": "u1", "event_time": "2024-01-01T00:00:00Z", '
        '"event_type": "click", "item_id": "i1", "price": 5, "category": "c"}\n'
        "\n"
        '{"event_id": "b", "user_id": "u1", "event_time": 1704067260000, '
        '"event_type": "purchase", "item_id": "i1", "extra": 1}\n',
    )

    first, second = read_log(path)

    assert detect_format(path) == "jsonl"
    assert first.event_type == "view"
    assert first.time_s == 1704067200.0
    assert first.price == 5.0
    assert first.category == "c"
    assert second.time_s == 1704067260.0
    assert second.session_id == "u1"
    assert second.price is None


def test_unknown_header_names_file_and_layouts(tmp_path: Path) -> None:
    path = _write(tmp_path, "odd.csv", "a,b,c\n1,2,3\n")

    with pytest.raises(LogFormatError) as caught:
        read_log(path)

    message = str(caught.value)
    assert caught.value.path == path
    assert str(path) in message
    assert "product_id" in message
    assert "SessionId" in message
    assert "timeframe" in message
    assert "'a,b,c'" in message


def test_requested_format_mismatch_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, "y.txt", "SessionId\tItemId\tTime\n3\t2\t1.0\n")

    with pytest.raises(LogFormatError, match="--format rees46 expects .* looks like rsc15"):
        read_log(path, "rees46")


def test_short_row_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "y.txt", "SessionId\tItemId\tTime\n3\t2\t1.0\n4\t5\n")

    with pytest.raises(LogRowError) as caught:
        read_log(path)

    assert caught.value.line == 3
    assert "expected 3 fields (got 2)" in str(caught.value)


def test_jsonl_missing_field_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, "e.jsonl", '{"user_id": "u", "event_type": "view", "item_id": "i"}\n')

    with pytest.raises(LogRowError, match="missing required field.*event_time"):
        read_log(path)


def test_jsonl_negative_price_raises(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "e.jsonl",
        '{"user_id": "u", "event_time": 1, "event_type": "view", "item_id": "i", "price": -3}\n',
    )

    with pytest.raises(LogRowError, match=r"'price' must be a finite number > 0 \(got -3\)"):
        read_log(path)


def test_missing_file_raises_format_error(tmp_path: Path) -> None:
    with pytest.raises(LogFormatError, match="file not found"):
        read_log(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("relative", "layout", "rows"),
    [
        ("rees46_multicategory_2019oct_head/2019-Oct_head_17434rows.csv", "rees46", 17434),
        ("yoochoose_rsc15_sessionrec_100k/yoochoose-clicks-100k_test.txt", "rsc15", 13568),
        ("diginetica_srgnn_sample/sample_train-item-views.csv", "diginetica", 12391),
    ],
)
def test_shared_samples_read_completely(
    shared_data: Path, relative: str, layout: str, rows: int
) -> None:
    path = shared_data / relative

    events = read_log(path)

    assert detect_format(path) == layout
    assert len(events) == rows
