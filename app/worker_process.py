"""A pricing worker run as a child process, for the demo, tests and benchmarks."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["WorkerExitedError", "WorkerProcess"]

log = logging.getLogger(__name__)


class WorkerExitedError(RuntimeError):
    """The worker process ended while it was expected to run."""

    def __init__(self, returncode: int, log_path: Path) -> None:
        super().__init__(f"worker exited with status {returncode}; its log is {log_path}")
        self.returncode = returncode
        self.log_path = log_path


class WorkerProcess:
    """Start ``faust -A app.worker worker`` with extra environment and stop it on exit.

    The worker's output goes to ``log_path``. ``env`` overrides the PRICESTREAM_*
    variables of this process, e.g. topic names and the web port.
    """

    def __init__(self, env: Mapping[str, str], log_path: Path, web_port: int) -> None:
        self.env = {**os.environ, **env, "PRICESTREAM_WEB_PORT": str(web_port)}
        self.log_path = log_path
        self.web_port = web_port
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Launch the worker; returns at once (use wait_ready to wait for it)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "faust", "-A", "app.worker", "worker", "--loglevel", "info"],
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        log.info("started worker pid %d, log %s", self._process.pid, self.log_path)

    @property
    def pid(self) -> int | None:
        """Process id of the running worker, None before start."""
        return None if self._process is None else self._process.pid

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Wait until the worker's /health endpoint responds.

        Raises WorkerExitedError when the process ends first and TimeoutError when it
        does not respond within ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                health = self.get_json("/health")
            except (OSError, urllib.error.URLError):
                time.sleep(0.5)
                continue
            if health.get("pid") != self.pid:
                msg = (
                    f"port {self.web_port} is served by another process (pid {health.get('pid')}), "
                    f"not by this worker (pid {self.pid}); stop it or choose another web port"
                )
                raise RuntimeError(msg)
            return
        msg = (
            f"worker did not respond on port {self.web_port} within {timeout_s:.0f}s; "
            f"see {self.log_path}"
        )
        raise TimeoutError(msg)

    def get_json(self, path: str) -> Any:
        """GET ``path`` from the worker's web server and decode the JSON body."""
        url = f"http://127.0.0.1:{self.web_port}{path}"
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """Send SIGTERM, wait for a clean shutdown, SIGKILL after ``timeout_s``."""
        if self._process is None or self._process.poll() is not None:
            return None if self._process is None else self._process.returncode
        self._process.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            log.warning(
                "worker pid %d ignored SIGTERM for %.0fs; killing it", self._process.pid, timeout_s
            )
            self._process.kill()
            return self._process.wait()

    def _check_alive(self) -> None:
        if self._process is None:
            msg = "worker was never started"
            raise RuntimeError(msg)
        returncode = self._process.poll()
        if returncode is not None:
            raise WorkerExitedError(returncode, self.log_path)

    def __enter__(self) -> WorkerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
