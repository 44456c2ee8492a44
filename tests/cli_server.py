"""``ct1-sim serve`` (the single-process server, exactly as users start it) in a child process on a free port, for
tests and benchmarks that compare another server with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.service_helpers import free_port
from tests.waiting import wait_for


@contextmanager
def cli_server(*args: str, env: dict[str, str] | None = None, timeout_s: float = 180.0) -> Iterator[str]:
    """``ct1-sim serve --port P *args`` with ``env`` added to this environment; yields its base URL once ``/healthz``
    answers (the model is loaded; its warm-up may still run); SIGTERM and a wait at the end."""
    port = free_port()
    cmd = [str(Path(sys.executable).with_name("ct1-sim")), "serve", "--port", str(port), *args]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})

        def up() -> bool:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{log.read().decode(errors='replace')[-3000:]}")
            try:
                return requests.get(f"{url}/healthz", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        try:
            wait_for(up, timeout_s, f"ct1-sim serve on port {port}", interval=0.2)
            yield url
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
