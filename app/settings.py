"""Service configuration, read once from the environment at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from app.pricing import PolicyConfig, PolicyConfigError

__all__ = ["ENV_PREFIX", "Settings", "SettingsError"]

ENV_PREFIX = "PRICESTREAM_"


class SettingsError(ValueError):
    """An environment variable contains a value the service cannot use."""

    def __init__(self, variable: str, value: str, expected: str) -> None:
        super().__init__(f"{variable} must be {expected} (got {value!r})")
        self.variable = variable
        self.value = value


@dataclass(frozen=True)
class Settings:
    """Broker, topic, state, model and guardrail settings of the service.

    Every field is set by the environment variable ``PRICESTREAM_<FIELD NAME IN CAPITALS>``;
    the README's configuration table lists them with their defaults.
    """

    broker: str = "kafka://127.0.0.1:9092"
    app_id: str = "pricestream"
    events_topic: str = "events"
    prices_topic: str = "prices"
    deadletter_topic: str = "events.deadletter"
    partitions: int = 4
    store: str = "rocksdb://"
    data_dir: Path = Path("var/worker")
    model_dir: Path | None = None
    web_port: int = 6066
    web_bind: str = "127.0.0.1"
    log_level: str = "INFO"
    max_discount: float = 0.30
    max_markup: float = 0.0
    max_change: float = 0.10
    change_window_s: float = 24 * 3600.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``PRICESTREAM_*`` variables, defaults for the rest."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            variable = ENV_PREFIX + field.name.upper()
            raw = environ.get(variable)
            if raw is None or raw == "":
                continue
            values[field.name] = _parse(variable, raw, field.name)
        settings = cls(**values)  # type: ignore[arg-type]
        try:
            settings.policy_config()
        except PolicyConfigError as error:
            variable = ENV_PREFIX + error.field.upper()
            raise SettingsError(variable, str(error.value), error.expected) from error
        return settings

    def policy_config(self) -> PolicyConfig:
        """Return the pricing guardrails these settings select."""
        return PolicyConfig(
            max_discount=self.max_discount,
            max_markup=self.max_markup,
            max_change=self.max_change,
            change_window_s=self.change_window_s,
        )

    @property
    def bootstrap_servers(self) -> str:
        """The broker list without the ``kafka://`` scheme, as aiokafka expects it."""
        return ",".join(
            server.strip().removeprefix("kafka://") for server in self.broker.split(";")
        )

    def describe(self) -> str:
        """Render the effective configuration on one line for the start-up log."""
        return " ".join(f"{field.name}={getattr(self, field.name)}" for field in fields(self))


_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,200}")
_TOPIC_NAME_FIELDS = ("app_id", "events_topic", "prices_topic", "deadletter_topic")
_FLOAT_FIELDS = ("max_discount", "max_markup", "max_change", "change_window_s")


def _parse(variable: str, raw: str, name: str) -> object:
    if name == "partitions":
        if not raw.isdigit() or int(raw) == 0:
            raise SettingsError(variable, raw, "a positive whole number")
        return int(raw)
    if name == "web_port":
        if not raw.isdigit() or not 1 <= int(raw) <= 65535:
            raise SettingsError(variable, raw, "a TCP port number from 1 to 65535")
        return int(raw)
    if name in _TOPIC_NAME_FIELDS:
        # Kafka's rule for topic names; the app id also prefixes changelog topic names.
        if not _TOPIC_NAME.fullmatch(raw) or raw in (".", ".."):
            raise SettingsError(
                variable,
                raw,
                "1 to 200 ASCII letters, digits, '.', '_' or '-' (a Kafka topic name)",
            )
        return raw
    if name in _FLOAT_FIELDS:
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(variable, raw, "a number") from None
    if name in ("data_dir", "model_dir"):
        return Path(raw)
    if name == "broker" and not all(part.strip().startswith("kafka://") for part in raw.split(";")):
        raise SettingsError(variable, raw, "one or more kafka://HOST:PORT URLs separated by ';'")
    if name == "store" and not raw.startswith(("rocksdb://", "memory://")):
        raise SettingsError(variable, raw, "'rocksdb://' or 'memory://'")
    return raw
