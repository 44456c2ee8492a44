"""Running a ROS node from the command line until Ctrl-C: shared by ``ct1-sim ros-bridge`` and ``ct1-sim sim ros``."""

from __future__ import annotations

import signal
import threading
from typing import Any

import typer

#: Seconds without a rosbridge connection before the user is told how to start one.
CONNECT_HINT_S = 10.0


def stop_on_signals() -> threading.Event:
    """An event that SIGINT (Ctrl-C) or SIGTERM sets: the node runs until it is."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def wait_until_stopped(node: Any, stop: threading.Event, rosbridge_url: str, name: str) -> None:
    """Block until ``stop`` is set; when ``node`` (started) has no rosbridge connection after :data:`CONNECT_HINT_S`,
    say so on stderr with how to start a local rosbridge."""
    if not node.wait_connected(CONNECT_HINT_S) and not stop.is_set():
        typer.echo(f"{name}: still waiting for rosbridge at {rosbridge_url} "
                   "(no ROS here? start one with: launch/local-rosbridge 9090)", err=True)
    stop.wait()
