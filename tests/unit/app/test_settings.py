from pathlib import Path

import pytest

from app.settings import Settings, SettingsError


def test_settings_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.broker == "kafka://127.0.0.1:9092"
    assert settings.events_topic == "events"
    assert settings.prices_topic == "prices"
    assert settings.deadletter_topic == "events.deadletter"
    assert settings.store == "rocksdb://"
    assert settings.model_dir is None


def test_settings_read_from_environment() -> None:
    settings = Settings.from_env(
        {
            "PRICESTREAM_BROKER": "kafka://10.0.0.1:9093;kafka://10.0.0.2:9093",
            "PRICESTREAM_PARTITIONS": "8",
            "PRICESTREAM_DATA_DIR": "/tmp/x",
            "PRICESTREAM_MODEL_DIR": "/models/v2",
            "PRICESTREAM_EVENTS_TOPIC": "shop.events",
        }
    )
    assert settings.partitions == 8
    assert settings.data_dir == Path("/tmp/x")
    assert settings.model_dir == Path("/models/v2")
    assert settings.events_topic == "shop.events"
    assert settings.bootstrap_servers == "10.0.0.1:9093,10.0.0.2:9093"


def test_settings_empty_variable_keeps_default() -> None:
    assert Settings.from_env({"PRICESTREAM_PARTITIONS": ""}).partitions == 4


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PRICESTREAM_PARTITIONS", "four", "a positive whole number"),
        ("PRICESTREAM_PARTITIONS", "0", "a positive whole number"),
        ("PRICESTREAM_WEB_PORT", "70000", "a TCP port number from 1 to 65535"),
        ("PRICESTREAM_BROKER", "127.0.0.1:9092", "kafka://HOST:PORT"),
        ("PRICESTREAM_STORE", "redis://", "'rocksdb://' or 'memory://'"),
    ],
)
def test_settings_invalid_value_names_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    assert caught.value.variable == variable
    assert variable in str(caught.value)
    assert repr(value) in str(caught.value)
    assert expected in str(caught.value)


def test_settings_policy_guardrails_from_environment() -> None:
    settings = Settings.from_env(
        {"PRICESTREAM_MAX_DISCOUNT": "0.15", "PRICESTREAM_CHANGE_WINDOW_S": "3600"}
    )
    config = settings.policy_config()
    assert config.max_discount == 0.15
    assert config.change_window_s == 3600.0
    assert config.max_change == 0.10


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.5", "in [0, 1)"), ("nan", "in [0, 1)"), ("a lot", "a number")],
)
def test_settings_invalid_max_discount_rejected(value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"PRICESTREAM_MAX_DISCOUNT": value})
    assert caught.value.variable == "PRICESTREAM_MAX_DISCOUNT"
    assert expected in str(caught.value)
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize("value", ["my events", "prices/eu", "..", "x" * 201])
def test_settings_invalid_topic_name_rejected(value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"PRICESTREAM_PRICES_TOPIC": value})
    assert caught.value.variable == "PRICESTREAM_PRICES_TOPIC"
    assert "a Kafka topic name" in str(caught.value)
