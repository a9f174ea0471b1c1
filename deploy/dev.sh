#!/usr/bin/env bash
# Set up a development machine and run the demo or the tests.
#
# Usage: deploy/dev.sh setup|demo|test [pytest arguments...]
#
#   setup  create .venv (Python 3.11), install pricestream with its dev extras, resolve
#          the Kafka jars through Maven, and install the docker compose client plugin
#          when docker is present without it
#   demo   setup, start the local broker, run `pricestream demo`, stop the broker
#          again if this script started it
#   test   setup, start the local broker, run ruff, mypy and pytest, stop the broker again
#          if this script started it
#
# Environment: PRICESTREAM_PYTHON (interpreter for the venv, default python3.11), and the
# broker variables of deploy/kafka/broker.sh.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

python=${PRICESTREAM_PYTHON:-python3.11}
# The broker script listens on PRICESTREAM_KAFKA_PORT; point the service, the demo and
# the tests at that broker unless PRICESTREAM_BROKER is set.
export PRICESTREAM_BROKER=${PRICESTREAM_BROKER:-kafka://127.0.0.1:${PRICESTREAM_KAFKA_PORT:-9092}}
venv=$repo/.venv
broker=$repo/deploy/kafka/broker.sh

die() {
    echo "dev.sh: $*" >&2
    exit 1
}

setup_venv() {
    command -v "$python" >/dev/null 2>&1 ||
        die "$python not found; install Python 3.11 or point PRICESTREAM_PYTHON at one"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "creating $venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip
    fi
    # Reinstall only when the dependency list changed. pip's own cache serves the wheels,
    # which matters because torch and its CUDA libraries are several GB.
    local stamp=$venv/.pricestream-installed
    local wanted
    wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
        echo "installing pricestream and its dependencies into $venv"
        "$venv/bin/python" -m pip install --quiet -e ".[dev]"
        echo "$wanted" >"$stamp"
    fi
}

setup_compose() {
    # The docker compose plugin is only needed to check docker-compose.yml; Debian's
    # docker client comes without it, so it is built from its Go module when Go is here.
    command -v docker >/dev/null 2>&1 || return 0
    docker compose version >/dev/null 2>&1 && return 0
    bash "$repo/deploy/install-compose-plugin.sh"
}

setup() {
    setup_venv
    "$broker" classpath
    setup_compose
}

broker_started_here=0

start_broker() {
    if "$broker" status >/dev/null 2>&1; then
        return
    fi
    "$broker" start
    broker_started_here=1
}

stop_broker() {
    if ((broker_started_here)); then
        "$broker" stop
    fi
}

case "${1:-}" in
setup)
    setup
    ;;
demo)
    shift
    setup
    start_broker
    trap stop_broker EXIT
    "$venv/bin/pricestream" demo "$@"
    ;;
test)
    shift
    setup
    start_broker
    trap stop_broker EXIT
    "$venv/bin/ruff" check .
    "$venv/bin/ruff" format --check .
    "$venv/bin/mypy" app agents models
    "$venv/bin/python" -m pytest "$@"
    ;;
*)
    echo "usage: $0 setup|demo|test [pytest arguments...]" >&2
    exit 2
    ;;
esac
