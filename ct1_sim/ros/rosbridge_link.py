"""A roslibpy connection to a rosbridge v2 server that keeps serving: reconnects with backoff, re-subscribes and
re-advertises on every connection, answers service calls later from any thread, and carries on when the server
refuses a message type it has no type support for (logged once per topic).

Threads: roslibpy's Twisted reactor thread calls the subscription and service callbacks (keep them short: store
and return); :meth:`RosbridgeLink.publish` and :meth:`RosbridgeLink.respond` may be called from any thread.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]


def check_rosbridge_url(url: str) -> None:
    """Raise ``ValueError`` unless ``url`` looks like ``ws://host:port`` (or ``wss://``)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("ws", "wss") or not parsed.hostname:
        raise ValueError(f"rosbridge_url must look like ws://127.0.0.1:9090, got {url!r}")


class RosbridgeLink:
    """Subscriptions, advertised topics and services of one node on a rosbridge v2 server (see the module docstring).

    Args:
        url: ``ws://host:port`` of the server.
        subscriptions: ``(topic, type, callback(msg dict))``.
        topics: topics to advertise (``(topic, type)``).
        services: ``(service, Trigger-like type, callback(request dict))``; answer with :meth:`respond`.
        max_backoff_s: longest wait between reconnection attempts.
        queue_size: rosbridge publisher queue size of the advertised topics.
        on_connect: called (in the reactor thread) after each (re)connection's subscriptions and advertisements.
    """

    def __init__(self, url: str, subscriptions: list[tuple[str, str, Callback]], topics: list[tuple[str, str]],
                 services: list[tuple[str, str, Callback]], max_backoff_s: float = 5.0, queue_size: int = 16,
                 on_connect: Callable[[], None] | None = None) -> None:
        check_rosbridge_url(url)
        self.url, self.max_backoff_s, self.queue_size = url, max_backoff_s, queue_size
        self.subscriptions, self.topics, self.services = subscriptions, topics, services
        self.stats: Counter[str] = Counter()
        self.connected = threading.Event()
        self.refused: set[str] = set()  # topics the server refused on this connection (not published)
        self._refusals_logged: set[tuple[str, str]] = set()
        self._pending: dict[str, tuple[str, str, str]] = {}  # op id -> (op, topic, type)
        self._stopping = False
        self._on_connect = on_connect
        self._ros: Any = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect in the background (retrying with backoff from 0.25 s up to ``max_backoff_s``)."""
        import roslibpy

        url = urlparse(self.url)
        port = url.port or (443 if url.scheme == "wss" else 80)
        ros = roslibpy.Ros(url.hostname, port, is_secure=url.scheme == "wss")
        ros.factory.initialDelay = 0.25
        ros.factory.maxDelay = self.max_backoff_s
        self._ros = ros
        for topic, _, callback in self.subscriptions:
            ros.on(topic, self._guarded(topic, callback))
        for service, _, callback in self.services:
            ros.on(service, self._guarded(service, callback))
        ros.on("ready", self._on_ready)
        ros.on("close", self._on_close)
        ros.factory.manager.run()
        log.info("connecting to rosbridge at %s", self.url)

    def stop(self) -> None:
        self._stopping = True
        if self._ros is not None:
            try:
                self._ros.terminate()
            except Exception as err:  # noqa: BLE001 - shutting down; the reactor may already be gone
                log.debug("closing the rosbridge connection: %s", err)

    # ------------------------------------------------------------------ reactor thread
    def _guarded(self, name: str, callback: Callback) -> Callback:
        def wrapper(msg: Any) -> None:
            try:
                callback(msg)
            except Exception:  # a handler must never take the connection down
                self.stats["handler_errors"] += 1
                log.exception("error handling a message on %s; dropped", name)

        return wrapper

    def _on_ready(self, proto: Any) -> None:
        """On every (re)connection: subscribe, advertise the topics, then the services."""
        import roslibpy

        # roslibpy has no handler for rosbridge's "status" op (it logs a traceback per message): take them here.
        handlers = getattr(proto, "_message_handlers", None)
        if isinstance(handlers, dict):
            handlers["status"] = self._on_status
        self.stats["connections"] += 1
        n = self.stats["connections"]
        self.refused = set()
        self._pending = {}  # ids of the previous connection's requests can no longer be answered
        ops: list[dict[str, Any]] = []
        for topic, msg_type, _ in self.subscriptions:
            ops.append({"op": "subscribe", "id": f"subscribe:{topic}:{n}", "type": msg_type, "topic": topic})
        for topic, msg_type in self.topics:
            ops.append({"op": "advertise", "id": f"advertise:{topic}:{n}", "type": msg_type, "topic": topic,
                        "queue_size": self.queue_size})
        for service, srv_type, _ in self.services:
            ops.append({"op": "advertise_service", "id": f"advertise_service:{service}:{n}", "type": srv_type, "service": service})
        for op in ops:
            self._pending[op["id"]] = (op["op"], op.get("topic") or op["service"], op["type"])
            self._ros.send_on_ready(roslibpy.Message(op))
        self.connected.set()
        if n == 1:
            log.info("connected to rosbridge at %s", self.url)
        else:
            log.info("reconnected to rosbridge at %s (connection %d); serving again", self.url, n)
        if self._on_connect is not None:
            self._on_connect()

    def _on_status(self, message: Any) -> None:
        """A rosbridge status message: a refused subscribe/advertise is logged once per topic; the rest at debug."""
        level, text, op_id = message.get("level"), message.get("msg"), message.get("id")
        pending = self._pending.get(op_id) if isinstance(op_id, str) else None
        if level == "error" and pending is not None:
            op, name, msg_type = pending
            self.refused.add(name)
            self.stats[f"refused:{name}"] += 1
            if (name, msg_type) not in self._refusals_logged:
                self._refusals_logged.add((name, msg_type))
                log.warning("rosbridge refused to %s %s (%s): %s; carrying on without it", op.replace("_", " "), name, msg_type, text)
            return
        self.stats["status_messages"] += 1
        log.debug("rosbridge status (%s): %s", level, text)

    def _on_close(self, _proto: Any) -> None:
        if self._stopping:
            return
        self.connected.clear()
        log.warning("lost the rosbridge connection at %s; reconnecting with backoff (at most %.1f s apart)", self.url, self.max_backoff_s)

    # ------------------------------------------------------------------ any thread
    def publish(self, topic: str, msg: dict[str, Any]) -> bool:
        """Send ``msg`` on ``topic``; False (dropped) while disconnected or when the server refused the topic."""
        import roslibpy

        if topic in self.refused:
            return False
        if not self.connected.is_set():
            self.stats["dropped_while_disconnected"] += 1
            return False
        self._ros.send_on_ready(roslibpy.Message({"op": "publish", "topic": topic, "msg": msg}))
        return True

    def respond(self, service: str, request: dict[str, Any], values: dict[str, Any], result: bool = True) -> None:
        """Answer a service call (``request`` as the callback received it) with ``values``."""
        import roslibpy

        response: dict[str, Any] = {"op": "service_response", "service": service, "values": values, "result": result}
        if "id" in request:
            response["id"] = request["id"]
        self._ros.send_on_ready(roslibpy.Message(response))
