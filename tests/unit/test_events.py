from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from app.events import MAX_ID_CHARS, Event, InvalidEventError, decode_event


def _raw(**overrides: object) -> bytes:
    document: dict[str, object] = {
        "event_id": "e1",
        "user_id": "u1",
        "event_time": "2019-10-01T00:00:05Z",
        "event_type": "view",
        "item_id": "1004856",
        "price": 130.76,
    }
    for name, value in overrides.items():
        if value is _DROP:
            document.pop(name)
        else:
            document[name] = value
    return orjson.dumps(document)


_DROP = object()


def _reject(raw: bytes, **kwargs: int) -> InvalidEventError:
    with pytest.raises(InvalidEventError) as caught:
        decode_event(raw, **kwargs)
    return caught.value


def test_decode_event_valid_fields_typed() -> None:
    event = decode_event(
        _raw(session_id="s1", category="electronics.smartphone", brand="samsung", quantity=2)
    )

    assert event == Event(
        event_id="e1",
        user_id="u1",
        event_time=datetime(2019, 10, 1, 0, 0, 5, tzinfo=UTC),
        event_type="view",
        item_id="1004856",
        price=130.76,
        session_id="s1",
        category="electronics.smartphone",
        brand="samsung",
        quantity=2,
    )
    assert event.event_time_ms == 1569888005000


def test_decode_event_click_becomes_view() -> None:
    assert decode_event(_raw(event_type="click")).event_type == "view"


def test_decode_event_extra_fields_ignored() -> None:
    assert decode_event(_raw(colour="red", nested={"a": 1})).item_id == "1004856"


def test_decode_event_empty_optional_fields_absent() -> None:
    event = decode_event(_raw(session_id="", category=None, brand=""))

    assert event.session_id is None
    assert event.category is None
    assert event.brand is None


def test_decode_event_epoch_ms_time() -> None:
    event = decode_event(_raw(event_time=1569888005123))

    assert event.event_time == datetime(2019, 10, 1, 0, 0, 5, 123000, tzinfo=UTC)
    assert event.event_time_ms == 1569888005123


def test_decode_event_offset_time_converted_to_utc() -> None:
    event = decode_event(_raw(event_time="2019-10-01T02:00:05+02:00"))

    assert event.event_time == datetime(2019, 10, 1, 0, 0, 5, tzinfo=UTC)
    assert event.event_time.tzinfo is UTC


def test_decode_event_integer_price_accepted() -> None:
    assert decode_event(_raw(price=5)).price == 5.0


BAD_RECORDS = [
    pytest.param(b"{not json", "invalid_json", None, id="invalid-json"),
    pytest.param(b"\xff\xfe\x00garbage", "invalid_json", None, id="not-utf8"),
    pytest.param(b"", "invalid_json", None, id="empty"),
    pytest.param(b'{"price": NaN}', "invalid_price", "price", id="nan-price"),
    pytest.param(b'{"price": -Infinity}', "invalid_price", "price", id="infinity-price"),
    pytest.param(b'{"quantity": NaN}', "invalid_json", None, id="nan-elsewhere"),
    pytest.param(b"[1, 2]", "wrong_type", None, id="array"),
    pytest.param(_raw(event_id=_DROP), "missing_field", "event_id", id="no-event-id"),
    pytest.param(_raw(user_id=None), "missing_field", "user_id", id="null-user-id"),
    pytest.param(_raw(item_id=_DROP), "missing_field", "item_id", id="no-item-id"),
    pytest.param(_raw(price=_DROP), "missing_field", "price", id="no-price"),
    pytest.param(_raw(event_time=_DROP), "missing_field", "event_time", id="no-time"),
    pytest.param(_raw(event_type=_DROP), "missing_field", "event_type", id="no-type"),
    pytest.param(_raw(user_id=42), "wrong_type", "user_id", id="numeric-user-id"),
    pytest.param(_raw(item_id=["a"]), "wrong_type", "item_id", id="list-item-id"),
    pytest.param(_raw(price="12.5"), "wrong_type", "price", id="string-price"),
    pytest.param(_raw(price=True), "wrong_type", "price", id="boolean-price"),
    pytest.param(_raw(event_type=3), "wrong_type", "event_type", id="numeric-type"),
    pytest.param(_raw(session_id=7), "wrong_type", "session_id", id="numeric-session"),
    pytest.param(_raw(quantity=1.5), "wrong_type", "quantity", id="fractional-quantity"),
    pytest.param(_raw(event_time=True), "wrong_type", "event_time", id="boolean-time"),
    pytest.param(_raw(event_time={"t": 1}), "wrong_type", "event_time", id="object-time"),
    pytest.param(_raw(user_id=""), "empty_field", "user_id", id="empty-user-id"),
    pytest.param(
        _raw(event_id="x" * (MAX_ID_CHARS + 1)), "field_too_long", "event_id", id="long-id"
    ),
    pytest.param(_raw(event_type="wishlist"), "unknown_event_type", "event_type", id="type"),
    pytest.param(_raw(price=0), "invalid_price", "price", id="zero-price"),
    pytest.param(_raw(price=-3.0), "invalid_price", "price", id="negative-price"),
    pytest.param(_raw(price=1e12), "invalid_price", "price", id="huge-price"),
    pytest.param(b'{"price": 1e400}', "invalid_price", "price", id="overflowing-price"),
    pytest.param(_raw(quantity=0), "invalid_quantity", "quantity", id="zero-quantity"),
    pytest.param(_raw(event_time="yesterday"), "invalid_timestamp", "event_time", id="text"),
    pytest.param(
        _raw(event_time="2019-10-01T00:00:05"), "invalid_timestamp", "event_time", id="naive"
    ),
    pytest.param(_raw(event_time=1569888005), "invalid_timestamp", "event_time", id="seconds"),
    pytest.param(_raw(event_time=-1), "invalid_timestamp", "event_time", id="negative-ms"),
    pytest.param(_raw(event_time=1e300), "invalid_timestamp", "event_time", id="huge-ms"),
    pytest.param(
        _raw(event_time="2150-01-01T00:00:00Z"), "invalid_timestamp", "event_time", id="future"
    ),
]


@pytest.mark.parametrize(("raw", "reason", "field"), BAD_RECORDS)
def test_decode_event_bad_record_rejected(raw: bytes, reason: str, field: str | None) -> None:
    error = _reject(raw)

    assert error.reason == reason
    assert error.field == field
    assert str(error) == error.message


def test_decode_event_oversize_rejected_before_parsing() -> None:
    raw = _raw(padding="x" * 2000)

    error = _reject(raw, max_bytes=1024)

    assert error.reason == "oversize"
    assert str(len(raw)) in error.message


def test_decode_event_messages_name_field_and_value() -> None:
    assert str(_reject(_raw(price=-3.0))) == (
        "'price' must be a finite number > 0 and <= 1e+09 (got -3.0)"
    )
    assert str(_reject(_raw(user_id=42))) == "'user_id' must be a string (got the number 42)"
    assert "include a time zone" in str(_reject(_raw(event_time="2019-10-01 00:00:05")))
