"""ROS round trip of the simulator node per synchronous step, through a real rosbridge v2 server
(``launch/local-rosbridge``), in one run:

- step round trip: an external policy client calls ``/ct1/sim/step`` (std_srvs/Trigger) on the ``ct1-sim sim ros``
  node (a separate process, procedural world, camera rendered) and waits until the answer and every output of that
  step have arrived: ``/clock``, ``/ct1/sim/odom``, ``/ct1/sim/camera/camera_info``, ``/ct1/sim/camera/image/compressed``
  (JPEG 448x256) and ``/ct1/sim/metrics`` (matched by stamp); ``/tf`` is refused by the local server (no tf2_msgs);
- the step service's answer alone (the node answers after publishing everything);
- the simulator alone: :class:`~ct1_sim.ros.sim_core.SimCore` in this process, the same world, one step plus
  building the messages (JPEG encoding included), so the ROS overhead per step is the round trip minus this.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import emit_json, print_table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ct1_sim.ros import contract as c  # noqa: E402
from ct1_sim.ros.messages import stamp_to_ns  # noqa: E402
from ct1_sim.ros.sim_core import SimCore  # noqa: E402
from ct1_sim.sim.env import DrivingEnv  # noqa: E402
from tests.ros_helpers import (  # noqa: E402
    LocalRosbridge,
    RosClient,
    SimNodeProcess,
    call_service,
    free_port,
    wait_service_answer,
)

OUTPUTS = {c.CLOCK_TOPIC: c.CLOCK_TYPE, c.SIM_ODOM_TOPIC: c.SIM_ODOM_TYPE, c.SIM_CAMERA_INFO_TOPIC: c.SIM_CAMERA_INFO_TYPE,
           c.SIM_IMAGE_TOPIC: c.SIM_IMAGE_TYPE, c.SIM_METRICS_TOPIC: c.SIM_METRICS_TYPE}
OPTIONS = {"town": 0, "route": "turn left", "seconds": 600.0, "speed": 0.0}
TWIST = {"linear": {"x": 4.0, "y": 0.0, "z": 0.0}, "angular": {"x": 0.0, "y": 0.0, "z": 0.0}}


def _stamp(topic: str, msg: dict) -> int:
    if topic == c.CLOCK_TOPIC:
        return stamp_to_ns(msg["clock"])
    if topic == c.SIM_METRICS_TOPIC:
        return stamp_to_ns(json.loads(msg["data"])["stamp"])
    return stamp_to_ns(msg["header"]["stamp"])


def _step_round_trip(client: RosClient) -> tuple[float, float]:
    """(answer s, everything s) of one synchronous step."""
    t0 = time.perf_counter()
    answer = call_service(client, c.SIM_STEP_SERVICE)
    t_answer = time.perf_counter() - t0
    if not answer["success"]:
        raise RuntimeError(f"/ct1/sim/step failed: {answer}")
    ns = stamp_to_ns(json.loads(answer["message"])["stamp"])
    for topic in OUTPUTS:
        client.wait_messages(topic, lambda msgs, topic=topic: any(_stamp(topic, m) == ns for m in msgs[-8:]), 30)
    return t_answer, time.perf_counter() - t0


def _stats(times: list[float]) -> tuple[float, float]:
    """(p50, p90) in milliseconds."""
    return statistics.median(times) * 1e3, float(np.percentile(times, 90)) * 1e3


def run(quick: bool = False) -> dict[str, float]:
    n = 20 if quick else 100
    logs = Path(tempfile.mkdtemp(prefix="ct1-bench-ros-sim-"))
    server = LocalRosbridge(free_port(), logs / "rosbridge.log")
    server.start()
    node = SimNodeProcess(server.url, logs / "sim.log", "--town", "0", "--route", OPTIONS["route"], "--seconds", "600")
    node.start()
    client = None
    try:
        client = RosClient(server.port, OUTPUTS, {c.SIM_CMD_VEL_TOPIC: c.SIM_CMD_VEL_TYPE})
        wait_service_answer(client, c.SIM_RESET_SERVICE, timeout=300)
        for _ in range(30):  # hold a twist (published again until a step used it: DDS matches the new publisher)
            client.publish(c.SIM_CMD_VEL_TOPIC, TWIST)
            if json.loads(call_service(client, c.SIM_STEP_SERVICE)["message"])["command"] == "twist":
                break
        for _ in range(5):  # warm-up: the renderer's first frames, DDS matching of every output
            _step_round_trip(client)
        answer_t, all_t = zip(*(_step_round_trip(client) for _ in range(n)), strict=True)
    finally:
        if client is not None:
            client.close()
        node.stop()
        server.stop()

    env = DrivingEnv(action_type="ackermann")
    core = SimCore(env, OPTIONS, seed=0)
    core.reset()
    core.set_command("twist", TWIST)
    alone = []
    try:
        for i in range(n + 5):
            t0 = time.perf_counter()
            core.step()
            core.messages()
            if i >= 5:
                alone.append(time.perf_counter() - t0)
    finally:
        env.close()

    (a50, a90), (r50, r90), (s50, s90) = _stats(list(answer_t)), _stats(list(all_t)), _stats(alone)
    rows = [
        ("step round trip: /ct1/sim/step call -> answer + all 5 outputs", r50, r90),
        ("step service answer alone", a50, a90),
        ("simulator alone (SimCore step + messages, this process)", s50, s90),
        ("ROS overhead per step (round trip p50 - simulator p50)", r50 - s50, float("nan")),
    ]
    print_table(f"ROS simulator node, synchronous steps through rosbridge-server-rs ({n} steps, procedural world, camera on)",
                ["what", "p50 ms", "p90 ms"], rows)
    figures = {"step_round_trip_p50_ms": r50, "step_round_trip_p90_ms": r90, "step_answer_p50_ms": a50,
               "sim_alone_p50_ms": s50, "ros_overhead_p50_ms": r50 - s50, "steps_per_s_over_ros": 1e3 / r50}
    emit_json("ros_sim", figures)
    return figures
