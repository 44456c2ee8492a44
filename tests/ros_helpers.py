"""Real ROS parts for tests and benchmarks: a rosbridge v2 server started by ``launch/local-rosbridge``, the
``ct1-sim ros-bridge`` node as a child process, and a roslibpy client that collects what it receives.

roslibpy runs one Twisted reactor per process: clients here are closed with ``close()``, never
``terminate()``, which would stop the reactor for every later client in the process.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import roslibpy

from ct1_sim.ros import contract as c
from tests.service_helpers import free_port
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[1]
LAUNCHER = REPO / "launch" / "local-rosbridge"
T = TypeVar("T")

__all__ = [
    "BridgeProcess",
    "LocalRosbridge",
    "RosClient",
    "SimNodeProcess",
    "call_service",
    "free_port",
    "image_message",
    "republish_until",
    "wait_service_answer",
]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _stop_process(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, grace_s: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class LocalRosbridge:
    """``launch/local-rosbridge PORT`` as a child process; the launcher execs, so its pid is the server's."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        """Start the server (setting up .venv-rosbridge first if needed) and wait until its port accepts connections."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([str(LAUNCHER), str(self.port)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"local-rosbridge exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            return _port_open(self.port)

        wait_for(ready, timeout, f"rosbridge on port {self.port}")

    def kill(self) -> None:
        """SIGKILL the server (no clean shutdown), as a crash would."""
        _stop_process(self.proc, signal.SIGKILL)
        wait_for(lambda: not _port_open(self.port), 10, f"port {self.port} to close")

    def stop(self) -> None:
        _stop_process(self.proc)


class BridgeProcess:
    """``ct1-sim ros-bridge`` as a child process, logging to ``log_path``."""

    def __init__(self, rosbridge_url: str, log_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.cmd = [sys.executable, "-c", "from ct1_sim.cli.app import main; main()", "ros-bridge",
                    "--rosbridge-url", rosbridge_url, *args]
        self.log_path = log_path
        self.env = env or {}
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, text: str, timeout: float = 30.0) -> str:
        """Wait until the bridge's log contains ``text``; returns the log."""
        return wait_for(lambda: text in self.log() and self.log(), timeout, f"{text!r} in the bridge log")

    def stop(self) -> None:
        _stop_process(self.proc, grace_s=20)


class RosClient:
    """A roslibpy client of ``port``: subscribes ``topics`` up front and keeps every message it receives."""

    def __init__(self, port: int, topics: dict[str, str], publishers: dict[str, str] | None = None, timeout: float = 30.0) -> None:
        self.ros = roslibpy.Ros("127.0.0.1", port)
        self.ros.factory.initialDelay = 0.25  # reconnect quickly after a rosbridge restart
        self.ros.factory.maxDelay = 1.0
        self.ros.run(timeout=timeout)
        self._cond = threading.Condition()
        self.received: dict[str, list[dict[str, Any]]] = {name: [] for name in topics}
        for name, msg_type in topics.items():
            roslibpy.Topic(self.ros, name, msg_type).subscribe(self._collector(name))
        self.publishers = {name: roslibpy.Topic(self.ros, name, msg_type) for name, msg_type in (publishers or {}).items()}
        for pub in self.publishers.values():
            pub.advertise()
        self.predict_service = roslibpy.Service(self.ros, c.PREDICT_SERVICE, c.PREDICT_TYPE)

    def _collector(self, name: str) -> Callable[[dict[str, Any]], None]:
        def collect(msg: dict[str, Any]) -> None:
            with self._cond:
                self.received[name].append(msg)
                self._cond.notify_all()

        return collect

    def publish(self, topic: str, msg: dict[str, Any]) -> None:
        self.publishers[topic].publish(roslibpy.Message(msg))

    def wait_messages(self, topic: str, predicate: Callable[[list[dict[str, Any]]], T], timeout: float) -> T:
        """Wait until ``predicate(messages received on topic)`` is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (value := predicate(list(self.received[topic]))):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for messages on {topic} "
                                       f"({len(self.received[topic])} received)")
                self._cond.wait(left)
            return value

    def call_predict(self, timeout: float = 60.0) -> dict[str, Any]:
        """Call ``/ct1/predict`` once; returns ``{"success", "message"}``."""
        return dict(self.predict_service.call(roslibpy.ServiceRequest({}), timeout=timeout))

    def wait_service(self, timeout: float) -> dict[str, Any]:
        """Call ``/ct1/predict`` until the bridge answers (it is advertised only while the bridge is connected)."""
        return wait_answer(lambda: self.call_predict(timeout=60), timeout, c.PREDICT_SERVICE)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the server may already be gone
            self.ros.close()


def image_message(data: bytes, fmt: str, stamp_sec: int, frame_id: str = "front_camera_optical") -> dict[str, Any]:
    """A ``sensor_msgs/msg/CompressedImage`` dict (ROS 2 header) carrying ``data`` as base64."""
    return {"header": {"stamp": {"sec": stamp_sec, "nanosec": 0}, "frame_id": frame_id}, "format": fmt,
            "data": base64.b64encode(data).decode("ascii")}


class SimNodeProcess(BridgeProcess):
    """``ct1-sim sim ros`` (the simulator node) as a child process, logging to ``log_path``."""

    def __init__(self, rosbridge_url: str, log_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        super().__init__(rosbridge_url, log_path, *args, env=env)
        self.cmd = [sys.executable, "-c", "from ct1_sim.cli.app import main; main()", "sim", "ros",
                    "--rosbridge-url", rosbridge_url, *args]


def republish_until(publish: Callable[[], None], answer: Callable[[float], T], timeout: float, every: float) -> T:
    """``publish()``, then wait up to ``every`` s for ``answer(seconds)`` (which raises ``TimeoutError`` when nothing
    came), publishing again until it comes: a message published while DDS still matches a just-advertised publisher
    can be lost. ``TimeoutError`` after ``timeout`` s."""
    left = timeout
    while True:
        publish()
        try:
            return answer(min(every, left))
        except TimeoutError:
            left -= every
            if left <= 0:
                raise


def call_service(client: RosClient, service: str, timeout: float = 60.0, srv_type: str = "std_srvs/srv/Trigger") -> dict[str, Any]:
    """Call a Trigger-like ``service`` once through ``client``; returns ``{"success", "message"}``."""
    return dict(roslibpy.Service(client.ros, service, srv_type).call(roslibpy.ServiceRequest({}), timeout=timeout))


def wait_service_answer(client: RosClient, service: str, timeout: float) -> dict[str, Any]:
    """Call ``service`` until it answers (it is advertised only while its node is connected); returns the answer."""
    return wait_answer(lambda: call_service(client, service, timeout=30), timeout, service)


def wait_answer(call: Callable[[], dict[str, Any]], timeout: float, service: str) -> dict[str, Any]:
    """``call()`` (one call of ``service``) until it answers instead of failing as not advertised (yet, or again while
    its node reconnects); returns the answer. ``TimeoutError`` naming ``service`` after ``timeout`` s."""

    def answered() -> dict[str, Any] | None:
        try:
            return call()
        except (roslibpy.core.ServiceException, roslibpy.core.RosTimeoutError):  # not advertised yet / reconnecting
            time.sleep(0.2)  # a pause between calls; wait_for adds its own short one
            return None

    return wait_for(answered, timeout, f"{service} to answer")


