from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from app.events import Event
from app.user_state import (
    StateDecodeError,
    StateLimits,
    TimedPrice,
    UserState,
    apply_event,
    decode_state,
    encode_state,
    is_duplicate,
    seconds_since_previous,
    with_hidden,
    with_offers,
)

START = datetime(2019, 10, 1, tzinfo=UTC)


def _event(
    number: int,
    minutes: float,
    *,
    item_id: str = "i1",
    price: float = 10.0,
    session_id: str | None = None,
    event_type: str = "view",
) -> Event:
    return Event(
        event_id=f"e{number}",
        user_id="u1",
        event_time=START + timedelta(minutes=minutes),
        event_type=event_type,
        item_id=item_id,
        price=price,
        session_id=session_id,
        category="c1",
    )


def _apply(events: list[Event], limits: StateLimits | None = None) -> UserState:
    state = UserState()
    for event in events:
        state = apply_event(state, event, limits) if limits else apply_event(state, event)
    return state


def test_user_state_round_trip_all_fields() -> None:
    state = _apply(
        [
            _event(1, 0, session_id="s1"),
            _event(2, 1, item_id="i2", price=30.0, event_type="cart", session_id="s1"),
        ]
    )
    state = with_hidden(state, b"\x00\x01\xfe\xff", "gru-1")
    state = with_offers(state, [("i1", 9.5), ("i2", 27.0)], state.last_event_ms or 0)

    assert decode_state(encode_state(state)) == state


def test_user_state_empty_round_trip() -> None:
    assert decode_state(encode_state(UserState())) == UserState()


def test_user_state_counters_and_times() -> None:
    state = _apply(
        [_event(1, 0), _event(2, 2, event_type="cart"), _event(3, 5, event_type="purchase")]
    )

    assert state.counts == {"view": 1, "cart": 1, "purchase": 1}
    assert state.first_event_ms == _event(1, 0).event_time_ms
    assert state.last_event_ms == _event(3, 5).event_time_ms


def test_user_state_price_statistics() -> None:
    state = _apply([_event(1, 0, price=10.0), _event(2, 1, price=20.0), _event(3, 2, price=30.0)])

    assert state.prices.count == 3
    assert state.prices.mean == pytest.approx(20.0)
    assert state.prices.std == pytest.approx((200 / 3) ** 0.5)
    assert (state.prices.minimum, state.prices.maximum) == (10.0, 30.0)


def test_user_state_session_split_by_event_time_gap() -> None:
    state = _apply([_event(1, 0), _event(2, 10), _event(3, 45), _event(4, 50)])

    assert state.session.sessions == 2
    assert state.session.events == 2
    assert state.session.started_ms == _event(3, 45).event_time_ms


def test_user_state_session_split_by_session_id() -> None:
    state = _apply(
        [_event(1, 0, session_id="a"), _event(2, 1, session_id="b"), _event(3, 2, session_id="b")]
    )

    assert state.session.sessions == 2
    assert state.session.session_id == "b"
    assert state.session.events == 2


def test_user_state_out_of_order_event_gap_zero() -> None:
    state = _apply([_event(1, 10)])

    assert seconds_since_previous(state, _event(2, 5)) == 0.0
    assert apply_event(state, _event(2, 5)).last_event_ms == _event(1, 10).event_time_ms


def test_user_state_ring_buffer_bounded_keeps_newest() -> None:
    limits = StateLimits(recent_events=3, recent_event_ids=4)

    state = _apply([_event(n, n) for n in range(1, 7)], limits)

    assert [e.event_time_ms for e in state.recent_events] == [
        _event(n, n).event_time_ms for n in (4, 5, 6)
    ]
    assert state.recent_events[0].gap_s == 60.0
    assert state.recent_event_ids == ("e3", "e4", "e5", "e6")


def test_user_state_duplicate_only_recent_ids() -> None:
    state = _apply([_event(n, n) for n in range(1, 6)], StateLimits(recent_event_ids=2))

    assert is_duplicate(state, "e5")
    assert is_duplicate(state, "e4")
    assert not is_duplicate(state, "e3")


def test_user_state_seen_prices_bounded_by_event_time() -> None:
    limits = StateLimits(tracked_items=2)

    state = _apply(
        [
            _event(1, 0, item_id="a", price=1.0),
            _event(2, 1, item_id="b", price=2.0),
            _event(3, 2, item_id="a", price=1.5),
            _event(4, 3, item_id="c", price=3.0),
        ],
        limits,
    )

    assert list(state.seen_prices) == ["a", "c"]
    assert state.seen_prices["a"] == TimedPrice(1.5, _event(3, 2).event_time_ms)


def test_user_state_offers_bounded() -> None:
    state = with_offers(UserState(), [("a", 1.0), ("b", 2.0)], 100, StateLimits(tracked_items=3))

    state = with_offers(state, [("c", 3.0), ("a", 1.1)], 200, StateLimits(tracked_items=3))
    state = with_offers(state, [("d", 4.0)], 300, StateLimits(tracked_items=3))

    assert set(state.offers) == {"c", "a", "d"}
    assert state.offers["a"] == TimedPrice(1.1, 200)


@pytest.mark.parametrize(
    "data",
    [b"", b"[]", b'{"v": 99}', orjson.dumps({"v": 1, "counts": {}})],
)
def test_decode_state_bad_bytes_raises(data: bytes) -> None:
    with pytest.raises(StateDecodeError):
        decode_state(data)
