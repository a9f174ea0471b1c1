"""docker-compose.yml is valid for `docker compose` and wires the broker to the worker."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def compose_config() -> dict:
    if shutil.which("docker") is None:
        pytest.fail("docker client not found; `deploy/dev.sh setup` explains how to get it")
    result = subprocess.run(
        ["docker", "compose", "-f", str(REPO / "docker-compose.yml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_kafka_is_official_4x_kraft_image(compose_config: dict) -> None:
    kafka = compose_config["services"]["kafka"]
    image, _, tag = kafka["image"].partition(":")
    assert image == "apache/kafka"
    assert tag.startswith("4.")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "healthcheck" in kafka


def test_compose_kafka_data_on_volume(compose_config: dict) -> None:
    kafka = compose_config["services"]["kafka"]
    targets = [volume["target"] for volume in kafka["volumes"]]
    assert kafka["environment"]["KAFKA_LOG_DIRS"] in targets


def test_compose_worker_builds_from_deploy_dockerfile(compose_config: dict) -> None:
    worker = compose_config["services"]["worker"]
    assert worker["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (REPO / "deploy" / "Dockerfile").is_file()
    assert worker["environment"]["PRICESTREAM_BROKER"] == "kafka://kafka:9092"
    assert worker["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "/health" in " ".join(worker["healthcheck"]["test"])
