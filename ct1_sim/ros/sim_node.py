"""The ROS simulator node (``ct1-sim sim ros``): the closed-loop simulator served through a rosbridge v2 server,
following carla-ros-bridge's conventions (standard message types, synchronous mode by default, ``/clock`` as the
simulation time). Names and types: :mod:`ct1_sim.ros.contract` (the "Simulator node" block); documented in
``bridges/README.md``.

- in: ``/ct1/sim/cmd_vel`` (Twist), ``/ct1/sim/path`` (Path in ``base_link``), ``/ct1/sim/ackermann_cmd``
  (AckermannDriveStamped); the latest command of any kind is held (:mod:`ct1_sim.ros.sim_commands`);
- out, after every step and reset: ``/clock``, ``/tf``, ``/ct1/sim/camera/camera_info``,
  ``/ct1/sim/camera/image/compressed`` (JPEG), ``/ct1/sim/odom``, then ``/ct1/sim/metrics`` (JSON);
  ``/ct1/sim/status`` (JSON) says what happened to the inputs (a new kind of command, a refused or bad message);
- services: ``/ct1/sim/reset`` and, in synchronous mode, ``/ct1/sim/step`` (std_srvs/srv/Trigger): advance one
  ``dt`` with the held command, publish everything, then answer ``success`` + JSON (sim time, step number, ...).
  In real-time mode the node steps on its own every ``dt`` of wall time (pausing at the end of an episode until
  ``/ct1/sim/reset``).

Threads: the reactor thread only stores what arrives; one worker thread owns the env (commands, steps, resets,
publishing). The connection (:class:`~ct1_sim.ros.rosbridge_link.RosbridgeLink`) reconnects with backoff and
re-advertises; the episode is kept across reconnections. A topic whose type the server lacks (ackermann_msgs,
tf2_msgs on the local test server) is logged once and skipped. Nothing a client sends ends the node.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from ct1_sim.ros import contract as c
from ct1_sim.ros.rosbridge_link import RosbridgeLink, check_rosbridge_url
from ct1_sim.ros.sim_commands import CommandError
from ct1_sim.ros.sim_core import EpisodeEnded, SimCore, dumps

log = logging.getLogger(__name__)

#: Say a repeated input problem in the log for its first few occurrences, then every this many.
LOG_EVERY = 100


@dataclass
class SimNodeConfig:
    """Settings of :class:`SimNode`; ``__post_init__`` raises ``ValueError`` naming a bad value.

    Attributes:
        rosbridge_url: ``ws://host:port`` of the rosbridge v2 server.
        synchronous: step only on ``/ct1/sim/step`` calls (else every ``dt`` of wall time).
        max_backoff_s: longest wait (s) between reconnection attempts.
    """

    rosbridge_url: str = "ws://127.0.0.1:9090"
    synchronous: bool = True
    max_backoff_s: float = 5.0

    def __post_init__(self) -> None:
        check_rosbridge_url(self.rosbridge_url)
        if not self.max_backoff_s > 0:
            raise ValueError(f"max_backoff_s must be > 0 s, got {self.max_backoff_s}")


class SimNode:
    """Serves a :class:`~ct1_sim.ros.sim_core.SimCore` on a ROS graph (see the module docstring).

    Example:
        >>> core = SimCore(DrivingEnv(action_type="ackermann"), {"town": 0})  # doctest: +SKIP
        >>> node = SimNode(core, SimNodeConfig("ws://127.0.0.1:9090")); node.start()  # doctest: +SKIP
        >>> node.stop()  # doctest: +SKIP
    """

    def __init__(self, core: SimCore, config: SimNodeConfig | None = None) -> None:
        self.core = core
        self.config = config or SimNodeConfig()
        self.stats: Counter[str] = Counter()
        self._cond = threading.Condition()
        self._commands: deque[tuple[str, Any]] = deque()
        self._calls: deque[tuple[str, dict[str, Any]]] = deque()
        self._republish = False
        self._last_report: dict[str, Any] | None = None  # what the last step or reset published
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        subscriptions = [(c.SIM_CMD_VEL_TOPIC, c.SIM_CMD_VEL_TYPE, self._command_callback("twist")),
                         (c.SIM_PATH_TOPIC, c.SIM_PATH_TYPE, self._command_callback("path")),
                         (c.SIM_ACKERMANN_TOPIC, c.SIM_ACKERMANN_TYPE, self._command_callback("ackermann"))]
        topics = [(c.CLOCK_TOPIC, c.CLOCK_TYPE), (c.TF_TOPIC, c.TF_TYPE), (c.SIM_CAMERA_INFO_TOPIC, c.SIM_CAMERA_INFO_TYPE),
                  (c.SIM_IMAGE_TOPIC, c.SIM_IMAGE_TYPE), (c.SIM_ODOM_TOPIC, c.SIM_ODOM_TYPE),
                  (c.SIM_METRICS_TOPIC, c.SIM_METRICS_TYPE), (c.SIM_STATUS_TOPIC, c.SIM_STATUS_TYPE)]
        services = [(c.SIM_RESET_SERVICE, c.SIM_SERVICE_TYPE, self._service_callback(c.SIM_RESET_SERVICE))]
        if self.config.synchronous:
            services.append((c.SIM_STEP_SERVICE, c.SIM_SERVICE_TYPE, self._service_callback(c.SIM_STEP_SERVICE)))
        # on every (re)connection the current state is published again (a client that just came sees where the ego is)
        self.link = RosbridgeLink(self.config.rosbridge_url, subscriptions, topics, services, self.config.max_backoff_s,
                                  on_connect=self._request_republish)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the first episode (errors such as a route the town cannot drive raise here), then connect and serve."""
        report = self.core.reset()
        log.info("episode %d: town seed %d, route %r, dt %.3f s", report["episode"], report["town_seed"], report["route"], report["dt_s"])
        self._last_report = report
        self._worker = threading.Thread(target=self._work, name="ct1-sim-ros-worker", daemon=True)
        self._worker.start()
        self.link.start()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self.link.connected.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=30)
        self.link.stop()
        log.info("ros simulator stopped (%s)", dict(self.stats + self.link.stats))

    # ------------------------------------------------------------------ reactor thread
    def _command_callback(self, kind: str) -> Any:
        def store(msg: Any) -> None:
            with self._cond:
                self._commands.append((kind, msg))
                self._cond.notify()
        return store

    def _service_callback(self, service: str) -> Any:
        def store(request: Any) -> None:
            with self._cond:
                self._calls.append((service, request))
                self._cond.notify()
        return store

    def _request_republish(self) -> None:
        with self._cond:
            self._republish = True
            self._cond.notify()

    # ------------------------------------------------------------------ worker thread
    def _work(self) -> None:
        dt = self.core.base.dt
        next_tick = time.monotonic() + dt
        while not self._stop.is_set():
            with self._cond:
                while not (self._stop.is_set() or self._commands or self._calls or self._republish):
                    if self.config.synchronous or self.core.done:
                        self._cond.wait()
                    else:
                        left = next_tick - time.monotonic()
                        if left <= 0:
                            break
                        self._cond.wait(left)
                commands, self._commands = list(self._commands), deque()
                calls, self._calls = list(self._calls), deque()
                republish, self._republish = self._republish, False
            if self._stop.is_set():
                break
            try:
                for kind, msg in commands:
                    self._take_command(kind, msg)
                if republish and self._last_report is not None:
                    self._publish_state(self._last_report)
                for service, request in calls:
                    self._answer(service, request)
                if not self.config.synchronous and not self.core.done and time.monotonic() >= next_tick:
                    self._step()
                    now = time.monotonic()
                    next_tick += dt
                    if next_tick < now:  # a step took longer than dt: keep the pace from here, say so once
                        if not self.stats["late_ticks"]:
                            log.warning("a step took longer than dt = %.3f s: running slower than real time", dt)
                        self.stats["late_ticks"] += 1
                        next_tick = now + dt
                elif self.core.done:
                    next_tick = time.monotonic() + dt
            except Exception:  # keep serving whatever went wrong in one round
                self.stats["worker_errors"] += 1
                log.exception("ros simulator worker round failed; still serving")
        for service, request in list(self._calls):
            self.link.respond(service, request, {"success": False, "message": "the ct1-sim simulator is shutting down"})

    def _say(self, counter: str, text: str, *args: Any) -> None:
        self.stats[counter] += 1
        n = self.stats[counter]
        if n <= 5 or n % LOG_EVERY == 0:
            log.warning(text + (f" ({n} so far)" if n > 1 else ""), *args)

    def _status(self, event: dict[str, Any]) -> None:
        self.link.publish(c.SIM_STATUS_TOPIC, {"data": dumps({"version": c.SIM_JSON_VERSION, "stamp": self.core._time()["stamp"], **event})})

    def _take_command(self, kind: str, msg: Any) -> None:
        topic = {"twist": c.SIM_CMD_VEL_TOPIC, "path": c.SIM_PATH_TOPIC, "ackermann": c.SIM_ACKERMANN_TOPIC}[kind]
        try:
            event = self.core.set_command(kind, msg)
        except CommandError as err:
            self._say("refused_commands", "ignoring a message on %s: %s", topic, err)
            self._status({"event": "refused", "topic": topic, "kind": kind, "error": str(err)})
            return
        self.stats[f"commands:{kind}"] += 1
        if event is None:
            return
        if event["event"] == "bad_command":
            self._say("bad_commands", "%s command %s is not finite or beyond the limits; the env replaces or clamps it at the next step",
                      kind, event["values"])
        else:
            log.info("driving by %s commands (%s)", kind, topic)
        self._status({**event, "topic": topic})

    def _publish_state(self, report: dict[str, Any]) -> None:
        for topic, msg in self.core.messages():
            self.link.publish(topic, msg)
        self.link.publish(c.SIM_METRICS_TOPIC, {"data": dumps(report)})

    def _step(self) -> dict[str, Any]:
        report = self.core.step()
        self.stats["steps"] += 1
        self._last_report = report
        self._publish_state(report)
        if report["action_issues"]:
            self._say("steps_with_action_issues", "step %d: %s", report["step"], "; ".join(report["action_issues"]))
        if self.core.done:
            ep = report.get("episode_metrics") or {}
            log.info("episode %d ended at step %d (%s): PDMS %s, route completion %s; call %s for another",
                     report["episode"], report["step"], report["termination"], ep.get("pdms"), ep.get("route_completion"),
                     c.SIM_RESET_SERVICE)
        return report

    def _answer(self, service: str, request: dict[str, Any]) -> None:
        self.stats[f"calls:{service}"] += 1
        try:
            if service == c.SIM_RESET_SERVICE:
                report = self.core.reset()
                self._last_report = report
                log.info("episode %d: town seed %d, route %r", report["episode"], report["town_seed"], report["route"])
                self._publish_state(report)
            else:
                report = self._step()
        except EpisodeEnded as err:
            self.link.respond(service, request, {"success": False, "message": dumps({"version": c.SIM_JSON_VERSION, "error": str(err)})})
            return
        except Exception as err:  # report the failure to the caller, keep serving
            self.stats["service_errors"] += 1
            log.exception("%s failed", service)
            self.link.respond(service, request, {"success": False, "message": dumps({"version": c.SIM_JSON_VERSION, "error": str(err)})})
            return
        keys = ("version", "type", "episode", "step", "sim_time_s", "stamp", "t", "command", "vehicle_command", "reward", "terminated",
                "truncated", "termination", "town_seed", "route", "time_limit_s", "dt_s")
        self.link.respond(service, request, {"success": True, "message": dumps({k: report[k] for k in keys if k in report})})
