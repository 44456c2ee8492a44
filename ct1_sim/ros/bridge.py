"""The ROS bridge node: a roslibpy client of a rosbridge v2 server that serves the world model to a ROS graph.

Contract (names in :mod:`ct1_sim.ros.contract`, documented in ``bridges/README.md``):

- subscribes ``/ct1/image/compressed`` (CompressedImage, jpeg/png), ``/ct1/instruction`` (String) and the
  odometry topic (``/odom``, Odometry) for the current speed;
- on each new non-empty instruction, once an image has arrived, predicts K trajectories through
  :class:`ct1_sim.world.WorldModel` and publishes them: first the best one, the medoid of the K samples (smallest
  mean distance to the others), on ``/ct1/trajectories/best``, then K ``nav_msgs/msg/Path`` messages on
  ``/ct1/trajectories/samples`` (one per sample, in sample order, all with the input image's stamp; ROS does not
  order messages across topics, so group them by stamp);
- with video enabled, rolls out the future video along the best trajectory and publishes its frames on
  ``/ct1/video/compressed`` (a failed rollout is logged; trajectories keep being served);
- advertises ``/ct1/predict`` (std_srvs/srv/Trigger): predicts for the latest image and instruction, publishes
  as above and answers with the trajectories as JSON in ``message``.

Threads: roslibpy's Twisted reactor thread only receives and stores messages; one worker thread decodes images
and runs the model, so a slow prediction never stalls the connection. Service calls are answered from the worker
(the response is sent later; roslibpy's own ``Service`` would answer inside the reactor thread).

Resilience: roslibpy reconnects with exponential backoff (capped at ``max_backoff_s``) and re-sends the
subscriptions and advertisements; the service is re-advertised on every new connection. A bad message is
logged and dropped; nothing a client sends ends the node.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ct1_sim.clip_spec import NUM_POSES, check_num_samples
from ct1_sim.formats.json_format import trajectory_to_dict
from ct1_sim.language import InstructionError, check_instruction_text, refusal_message
from ct1_sim.metrics import medoid_index
from ct1_sim.ros import contract as c
from ct1_sim.ros.images import ImageMessageError, decode_compressed_image, encode_compressed_image
from ct1_sim.ros.messages import ns_to_stamp, odometry_speed, stamp_to_ns, trajectory_to_path
from ct1_sim.world import Prediction, WorldModel

log = logging.getLogger(__name__)


@dataclass
class BridgeConfig:
    """Settings of :class:`RosBridgeNode`; ``__post_init__`` raises ``ValueError`` naming a bad value.

    Attributes:
        rosbridge_url: ``ws://host:port`` of the rosbridge v2 server.
        num_samples: trajectories K per prediction.
        seed: sampling seed (None: fresh randomness per prediction).
        odom_topic: ``nav_msgs/msg/Odometry`` topic giving the current speed (m/s).
        odom_timeout_s: odometry older than this (s) is ignored (speed unknown).
        frame_id: frame of the published paths (REP 103 body axes, rooted at the current camera).
        video: roll out and publish the future video along the best trajectory.
        video_frames: frames per rollout.
        max_backoff_s: longest wait (s) between reconnection attempts.
    """

    rosbridge_url: str = "ws://127.0.0.1:9090"
    num_samples: int = 8
    seed: int | None = None
    odom_topic: str = c.ODOM_TOPIC
    odom_timeout_s: float = 2.0
    frame_id: str = c.PATH_FRAME
    video: bool = False
    video_frames: int = NUM_POSES
    max_backoff_s: float = 5.0

    def __post_init__(self) -> None:
        url = urlparse(self.rosbridge_url)
        if url.scheme not in ("ws", "wss") or not url.hostname:
            raise ValueError(f"rosbridge_url must look like ws://127.0.0.1:9090, got {self.rosbridge_url!r}")
        check_num_samples(self.num_samples)
        if not self.odom_topic.startswith("/"):
            raise ValueError(f"odom_topic must be an absolute topic name such as /odom, got {self.odom_topic!r}")
        if not self.frame_id:
            raise ValueError("frame_id must not be empty")
        if not 2 <= self.video_frames <= 64:
            raise ValueError(f"video_frames must be 2..64, got {self.video_frames}")
        for name in ("odom_timeout_s", "max_backoff_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 s, got {getattr(self, name)}")


@dataclass
class _Image:
    rgb: np.ndarray  # uint8 (H,W,3)
    stamp_ns: int
    frame_id: str


class InstructionRefused(Exception):
    """The model does not do the instruction; ``payload`` is the ``/ct1/predict`` JSON saying why (``supported`` false)."""

    def __init__(self, payload: str) -> None:
        super().__init__(payload)
        self.payload = payload


@dataclass
class _Inbox:
    """What the reactor thread hands the worker (guarded by ``RosBridgeNode._cond``)."""

    image_msg: dict[str, Any] | None = None  # latest only: a camera stream overwrites older frames
    instruction: str | None = None  # latest only
    calls: deque[dict[str, Any]] = field(default_factory=deque)  # every service call is answered


def prediction_json(prediction: Prediction, best: int, instruction: str, stamp_ns: int, speed: float | None, frame_id: str) -> str:
    """The ``/ct1/predict`` response payload (JSON text, version :data:`contract.PREDICT_JSON_VERSION`).

    ``trajectories[i].trajectory`` is ct1-sim's JSON trajectory (OpenCV camera axes, relative to the current
    camera, metres, µs); ``positions`` are the same camera centres in ``frame_id`` (x forward, y left, z up).
    """
    from ct1_sim.geometry import change_pose_frame

    items = []
    for traj, maneuver in zip(prediction.trajectories, prediction.maneuvers, strict=True):
        rel = traj.relative_to_first()
        body = change_pose_frame(rel.c2w, "opencv", "ros_body")
        items.append({
            "maneuver": maneuver,
            "times_s": [round(float(t), 6) for t in rel.times_s],
            "positions": np.round(body[:, :3, 3], 4).tolist(),
            "trajectory": trajectory_to_dict(rel),
        })
    return json.dumps({
        "version": c.PREDICT_JSON_VERSION,
        "instruction": instruction,
        "stamp": ns_to_stamp(stamp_ns),
        "frame_id": frame_id,
        "speed_mps": speed,
        "best_index": best,
        "maneuvers": list(prediction.maneuvers),
        "supported": prediction.supported,
        "intent": prediction.instruction,
        "trajectories": items,
    })


class RosBridgeNode:
    """Serves a :class:`WorldModel` on a ROS graph through a rosbridge v2 server (see the module docstring).

    Example:
        >>> world = WorldModel.from_pretrained()  # doctest: +SKIP
        >>> node = RosBridgeNode(world, BridgeConfig("ws://127.0.0.1:9090"))  # doctest: +SKIP
        >>> node.start(); node.wait_connected(30)  # doctest: +SKIP
        >>> node.stop()  # doctest: +SKIP
    """

    def __init__(self, world: WorldModel, config: BridgeConfig | None = None) -> None:
        self.world = world
        self.config = config or BridgeConfig()
        self.stats: Counter[str] = Counter()
        self._cond = threading.Condition()
        self._inbox = _Inbox()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._image: _Image | None = None
        self._instruction: str | None = None
        self._want_prediction = False
        self._speed: tuple[float, float] | None = None  # (m/s, time.monotonic() when received)
        self._worker: threading.Thread | None = None
        self._ros: Any = None
        self._subscriptions: list[tuple[str, str, Any]] = []
        self._advertised: list[tuple[str, str]] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect (in the background, retrying with backoff), subscribe, advertise and start the worker."""
        import roslibpy

        url = urlparse(self.config.rosbridge_url)
        port = url.port or (443 if url.scheme == "wss" else 80)
        ros = roslibpy.Ros(url.hostname, port, is_secure=url.scheme == "wss")
        ros.factory.initialDelay = 0.25  # first retry after 0.25 s, then x e (jittered) up to max_backoff_s
        ros.factory.maxDelay = self.config.max_backoff_s
        self._ros = ros
        self._subscriptions = [
            (c.IMAGE_TOPIC, c.IMAGE_TYPE, self._on_image),
            (c.INSTRUCTION_TOPIC, c.INSTRUCTION_TYPE, self._on_instruction),
            (self.config.odom_topic, c.ODOM_TYPE, self._on_odometry),
        ]
        self._advertised = [(c.SAMPLES_TOPIC, c.PATH_TYPE), (c.BEST_TOPIC, c.PATH_TYPE), (c.INSTRUCTION_STATUS_TOPIC, c.INSTRUCTION_STATUS_TYPE)]
        if self.config.video:
            self._advertised.append((c.VIDEO_TOPIC, c.VIDEO_TYPE))
        for topic, _, callback in self._subscriptions:
            ros.on(topic, self._guarded(topic, callback))
        ros.on(c.PREDICT_SERVICE, self._guarded(c.PREDICT_SERVICE, self._on_service_call))
        ros.on("ready", self._on_ready)
        ros.on("close", self._on_close)

        self._worker = threading.Thread(target=self._work, name="ct1-ros-bridge-worker", daemon=True)
        self._worker.start()
        ros.factory.manager.run()  # starts the reactor thread; the factory connects and retries on its own
        log.info("connecting to rosbridge at %s", self.config.rosbridge_url)

    def wait_connected(self, timeout: float | None = None) -> bool:
        """True once connected to rosbridge (within ``timeout`` seconds)."""
        return self._connected.wait(timeout)

    @property
    def is_connected(self) -> bool:
        """Whether the websocket to rosbridge is open now."""
        return self._connected.is_set()

    def stop(self) -> None:
        """Close the connection and stop the worker (the node cannot be restarted)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=30)
        if self._ros is not None:
            try:
                self._ros.terminate()
            except Exception as err:  # noqa: BLE001 - shutting down; the reactor may already be gone
                log.debug("closing the rosbridge connection: %s", err)
        log.info("ros bridge stopped (%s)", dict(self.stats))

    # ------------------------------------------------------------------ reactor thread: connection
    def _on_ready(self, _proto: object) -> None:
        """On every (re)connection: subscribe, advertise the topics, then the service, in that order (so a
        client that can call the service knows the subscriptions are in place)."""
        import roslibpy

        self.stats["connections"] += 1
        n = self.stats["connections"]
        ops: list[dict[str, Any]] = [
            {"op": "subscribe", "id": f"subscribe:{topic}:{n}", "type": msg_type, "topic": topic}
            for topic, msg_type, _ in self._subscriptions
        ]
        ops += [
            {"op": "advertise", "id": f"advertise:{topic}:{n}", "type": msg_type, "topic": topic,
             "queue_size": max(16, self.config.num_samples + 1)}
            for topic, msg_type in self._advertised
        ]
        ops.append({"op": "advertise_service", "type": c.PREDICT_TYPE, "service": c.PREDICT_SERVICE})
        for op in ops:
            self._ros.send_on_ready(roslibpy.Message(op))
        self._connected.set()
        if n == 1:
            log.info("connected to rosbridge at %s; serving %s", self.config.rosbridge_url, c.PREDICT_SERVICE)
        else:
            log.info("reconnected to rosbridge at %s (connection %d); serving again", self.config.rosbridge_url, n)

    def _on_close(self, _proto: object) -> None:
        if self._stop.is_set():
            return
        self._connected.clear()
        log.warning("lost the rosbridge connection at %s; reconnecting with backoff (at most %.1f s apart)",
                    self.config.rosbridge_url, self.config.max_backoff_s)

    # ------------------------------------------------------------------ reactor thread: inputs
    def _guarded(self, name: str, callback: Any) -> Any:
        """Wrap a message callback so that a bug or a bad message is logged, never raised into roslibpy."""

        def wrapper(msg: Any) -> None:
            try:
                callback(msg)
            except Exception:  # a message handler must never take the node down
                self.stats["handler_errors"] += 1
                log.exception("error handling a message on %s; dropped", name)

        return wrapper

    def _on_image(self, msg: dict[str, Any]) -> None:
        with self._cond:
            self._inbox.image_msg = msg
            self._cond.notify()

    def _on_instruction(self, msg: dict[str, Any]) -> None:
        data = msg.get("data") if isinstance(msg, dict) else None
        try:
            text = check_instruction_text(data, name=f"the instruction on {c.INSTRUCTION_TOPIC}")
        except InstructionError as err:
            self.stats["bad_instructions"] += 1
            log.warning("ignoring it: %s", err)
            self._publish(c.INSTRUCTION_STATUS_TOPIC, {"data": json.dumps({"supported": False, "error": str(err)})})
            return
        with self._cond:
            self._inbox.instruction = text
            self._cond.notify()

    def _on_odometry(self, msg: dict[str, Any]) -> None:
        try:
            speed = odometry_speed(msg)
        except ValueError as err:
            self.stats["bad_odometry"] += 1
            log.warning("ignoring odometry on %s: %s", self.config.odom_topic, err)
            return
        self._speed = (speed, time.monotonic())

    def _on_service_call(self, request: dict[str, Any]) -> None:
        with self._cond:
            self._inbox.calls.append(request)
            self._cond.notify()

    # ------------------------------------------------------------------ worker thread
    def _work(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not (self._stop.is_set() or self._inbox.image_msg or self._inbox.instruction or self._inbox.calls):
                    self._cond.wait()
                image_msg, self._inbox.image_msg = self._inbox.image_msg, None
                instruction, self._inbox.instruction = self._inbox.instruction, None
                calls, self._inbox.calls = list(self._inbox.calls), deque()
            if self._stop.is_set():
                break
            try:
                self._step(image_msg, instruction, calls)
            except Exception:  # keep serving whatever went wrong in one step
                log.exception("ros bridge worker step failed; still serving")
        for request in self._take_calls():
            self._respond(request, False, "the ct1-sim bridge is shutting down")

    def _take_calls(self) -> list[dict[str, Any]]:
        with self._cond:
            calls, self._inbox.calls = list(self._inbox.calls), deque()
        return calls

    def _step(self, image_msg: dict[str, Any] | None, instruction: str | None, calls: list[dict[str, Any]]) -> None:
        if image_msg is not None:
            self._take_image(image_msg)
        if instruction is not None:
            self.stats["instructions"] += 1
            self._instruction = instruction
            self._want_prediction = True
            log.info("instruction: %r", instruction)
        if self._want_prediction:
            if self._image is None:
                log.info("have an instruction; waiting for an image on %s to predict", c.IMAGE_TOPIC)
            else:
                self._want_prediction = False
                try:
                    self._predict_and_publish()
                except InstructionRefused:
                    pass  # said on the status topic and in the log
                except Exception:  # one failed prediction must not stop the node
                    self.stats["prediction_errors"] += 1
                    log.exception("prediction for instruction %r failed; still serving", self._instruction)
        for request in calls:
            self._answer(request)

    def _take_image(self, msg: dict[str, Any]) -> None:
        try:
            rgb = decode_compressed_image(msg)
            head = msg.get("header") or {}
            stamp_ns = stamp_to_ns(head.get("stamp"))
        except (ImageMessageError, ValueError) as err:
            self.stats["bad_images"] += 1
            log.warning("ignoring a bad image on %s: %s", c.IMAGE_TOPIC, err)
            return
        self.stats["images"] += 1
        frame_id = head.get("frame_id") if isinstance(head.get("frame_id"), str) and head.get("frame_id") else c.CAMERA_FRAME
        if self._image is None:
            log.info("first image: %dx%d", rgb.shape[1], rgb.shape[0])
        self._image = _Image(rgb, stamp_ns, frame_id)

    def current_speed(self) -> float | None:
        """Latest odometry speed (m/s), or None when none arrived within ``odom_timeout_s``."""
        speed = self._speed
        if speed is None or time.monotonic() - speed[1] > self.config.odom_timeout_s:
            return None
        return speed[0]

    def _predict_and_publish(self) -> Callable[[], str]:
        """Predict for the latest image and instruction, publish the paths (and video); return the JSON builder.

        The returned function builds the JSON payload of the prediction: only a service call needs it, and building
        it costs ~3 ms of Python that would otherwise hold the GIL while the connection thread sends the paths.

        The best path goes out first: it is what a planner waits for, and on rosbridge-server-rs a message sent
        behind the K sample paths reached a subscriber up to ~40 ms later when instructions came back to back."""
        image, instruction = self._image, self._instruction
        if image is None or instruction is None:
            raise RuntimeError("no image or no instruction yet")
        speed = self.current_speed()
        stamp_ns = image.stamp_ns or time.time_ns()
        t0 = time.perf_counter()
        prediction = self.world.predict(image.rgb, instruction, num_samples=self.config.num_samples, seed=self.config.seed, speed=speed)
        status = {"instruction": instruction, **(prediction.instruction or {"supported": True})}
        self._publish(c.INSTRUCTION_STATUS_TOPIC, {"data": json.dumps(status)})
        if not prediction.supported:
            self.stats["unsupported_instructions"] += 1
            log.warning("not driving it: %s", refusal_message(instruction, status))
            raise InstructionRefused(json.dumps({"version": c.PREDICT_JSON_VERSION, **status, "trajectories": []}))
        best = medoid_index(prediction.trajectories)
        self.stats["predictions"] += 1
        log.info("predicted %d trajectories in %.3f s for %r (speed %s); best #%d: %s",
                 len(prediction.trajectories), time.perf_counter() - t0, instruction,
                 "unknown" if speed is None else f"{speed:.2f} m/s", best, prediction.maneuvers[best])
        paths = [trajectory_to_path(t, stamp_ns, self.config.frame_id) for t in prediction.trajectories]
        self._publish(c.BEST_TOPIC, paths[best])
        for path in paths:
            self._publish(c.SAMPLES_TOPIC, path)
        if self.config.video:
            self._publish_video(image, prediction, best, stamp_ns)
        return functools.partial(prediction_json, prediction, best, instruction, stamp_ns, speed, self.config.frame_id)

    def _publish_video(self, image: _Image, prediction: Prediction, best: int, stamp_ns: int) -> None:
        try:
            rollout = self.world.rollout(image.rgb, prediction.trajectories[best], num_frames=self.config.video_frames,
                                         seed=self.config.seed, speed=self.current_speed())
        except Exception as err:  # noqa: BLE001 - video is optional; trajectories keep being served
            self.stats["rollout_errors"] += 1
            log.error("video rollout failed, publishing trajectories only: %s", err)
            return
        for i, frame in enumerate(rollout.frames):
            frame_ns = stamp_ns + round(i / rollout.fps * 1e9)
            self._publish(c.VIDEO_TOPIC, encode_compressed_image(frame, frame_ns, image.frame_id))
        log.info("published %d video frames at %.1f fps", len(rollout.frames), rollout.fps)

    def _publish(self, topic: str, msg: dict[str, Any]) -> None:
        import roslibpy

        if not self._connected.is_set():
            self.stats["dropped_while_disconnected"] += 1
            log.warning("not connected to rosbridge: dropped a message for %s", topic)
            return
        self._ros.send_on_ready(roslibpy.Message({"op": "publish", "topic": topic, "msg": msg}))

    def _answer(self, request: dict[str, Any]) -> None:
        self.stats["service_calls"] += 1
        if self._image is None or self._instruction is None:
            missing = " and ".join(n for n, v in ((c.IMAGE_TOPIC, self._image), (c.INSTRUCTION_TOPIC, self._instruction)) if v is None)
            self._respond(request, False, f"nothing to predict yet: publish on {missing} first")
            return
        try:
            payload = self._predict_and_publish()()
        except InstructionRefused as refused:
            self._respond(request, False, refused.payload)  # success false; the JSON says why and what is nearest
            return
        except Exception as err:  # report the failure to the caller, keep serving
            self.stats["prediction_errors"] += 1
            log.exception("prediction for %s failed", c.PREDICT_SERVICE)
            self._respond(request, False, f"prediction failed: {err}")
            return
        self._respond(request, True, payload)

    def _respond(self, request: dict[str, Any], success: bool, message: str) -> None:
        import roslibpy

        response = {"op": "service_response", "service": c.PREDICT_SERVICE, "values": {"success": success, "message": message}, "result": True}
        if "id" in request:
            response["id"] = request["id"]
        self._ros.send_on_ready(roslibpy.Message(response))

