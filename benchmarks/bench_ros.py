"""ROS round trip through a real rosbridge v2 server (``launch/local-rosbridge``), in one run:

- bare rosbridge echo: a roslibpy client publishes a small message (std_msgs/String, and a 16-pose nav_msgs/Path)
  and receives it back through the same server (publish -> rosbridge -> DDS -> rosbridge -> subscriber);
- prediction by topic: publish an instruction on ``/ct1/instruction``, receive the best path on
  ``/ct1/trajectories/best`` from the ``ct1-sim ros-bridge`` node (a separate process, K=8; the node publishes the
  best path first, the K sample paths after it, outside this figure);
- prediction by service: call ``/ct1/predict`` (Trigger; the JSON of K trajectories comes back);
- the model alone: ``WorldModel.predict`` in this process on the same image, instruction and K, called from a
  worker thread as the bridge does,

- the model inside the bridge: the time the node logs for each ``WorldModel.predict``,

so the ROS overhead of a prediction is its round trip minus the bridge's own model time.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from harness import emit_json, print_table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ct1_sim.data.samples import SAMPLES_DIR, load_samples  # noqa: E402
from ct1_sim.ros import contract as c  # noqa: E402
from ct1_sim.ros.messages import trajectory_to_path  # noqa: E402
from ct1_sim.world import WorldModel  # noqa: E402
from tests.ros_helpers import BridgeProcess, LocalRosbridge, RosClient, free_port, image_message  # noqa: E402

ECHO_STRING = "/ct1_bench/echo_string"
ECHO_PATH = "/ct1_bench/echo_path"
NUM_SAMPLES = 8


def _round_trips(client: RosClient, send: Callable[[], None], topic: str, n: int, timeout: float = 120.0) -> list[float]:
    """Seconds from ``send()`` until one more message arrives on ``topic``, ``n`` times in sequence."""
    times = []
    for _ in range(n):
        have = len(client.received[topic])
        t0 = time.perf_counter()
        send()
        client.wait_messages(topic, lambda msgs, have=have: len(msgs) > have, timeout)
        times.append(time.perf_counter() - t0)
    return times


def _stats(times: list[float]) -> tuple[float, float]:
    """(p50, p90) in milliseconds."""
    return statistics.median(times) * 1e3, float(np.percentile(times, 90)) * 1e3


def run(quick: bool = False) -> dict[str, float]:
    n_echo, n_pred = (50, 5) if quick else (200, 20)
    sample = load_samples()[0]
    png = (SAMPLES_DIR / f"{sample.name}.png").read_bytes()
    logs = Path(tempfile.mkdtemp(prefix="ct1-bench-ros-"))
    server = LocalRosbridge(free_port(), logs / "rosbridge.log")
    server.start()
    bridge = BridgeProcess(server.url, logs / "bridge.log", "--samples", str(NUM_SAMPLES), "--seed", "0", "--device", "cpu")
    bridge.start()
    client = None
    try:
        world = WorldModel.from_pretrained(device="cpu")
        client = RosClient(server.port, {c.BEST_TOPIC: c.PATH_TYPE, ECHO_STRING: "std_msgs/msg/String", ECHO_PATH: c.PATH_TYPE},
                           {c.IMAGE_TOPIC: c.IMAGE_TYPE, c.INSTRUCTION_TOPIC: c.INSTRUCTION_TYPE,
                            ECHO_STRING: "std_msgs/msg/String", ECHO_PATH: c.PATH_TYPE})
        client.wait_service(timeout=300)

        # 1. bare rosbridge echo (after a warm-up that also waits for the DDS match)
        def echo_string() -> None:
            client.publish(ECHO_STRING, {"data": "ping"})

        path_msg = trajectory_to_path(sample.trajectory, time.time_ns())

        def echo_path() -> None:
            client.publish(ECHO_PATH, path_msg)

        for send, topic in ((echo_string, ECHO_STRING), (echo_path, ECHO_PATH)):
            deadline = time.monotonic() + 30
            while not client.received[topic] and time.monotonic() < deadline:
                send()
                time.sleep(0.2)
            _round_trips(client, send, topic, 10)
        echo_s = _round_trips(client, echo_string, ECHO_STRING, n_echo)
        echo_p = _round_trips(client, echo_path, ECHO_PATH, n_echo)

        # 2. predictions through the bridge (image published once; each instruction gives one best path)
        client.publish(c.IMAGE_TOPIC, image_message(png, "png", 1))
        answer = {}

        def instruct() -> None:
            client.publish(c.INSTRUCTION_TOPIC, {"data": sample.instruction})

        deadline = time.monotonic() + 120
        while not client.received[c.BEST_TOPIC] and time.monotonic() < deadline:  # warm-up and DDS match
            instruct()
            time.sleep(2.0)
        time.sleep(3.0)  # let any warm-up predictions still queued finish
        topic_t = _round_trips(client, instruct, c.BEST_TOPIC, n_pred)
        service_t = []
        for _ in range(n_pred):
            t0 = time.perf_counter()
            answer = client.call_predict(timeout=120)
            service_t.append(time.perf_counter() - t0)
        if not answer.get("success"):
            raise RuntimeError(f"/ct1/predict failed: {answer}")
        # the bridge's own model time per prediction, from its log ("predicted 8 trajectories in 0.371 s ...")
        logged = [float(m) for m in re.findall(r"predicted \d+ trajectories in ([0-9.]+) s", bridge.log())]
        in_bridge_t = logged[-2 * n_pred:]

        # 3. the model alone, same inputs, from a worker thread as in the bridge (on a loaded 2-core machine the
        #    main thread's 2-thread OpenMP team runs the same call several times slower)
        model_t = []

        def model_alone() -> None:
            for _ in range(5):  # warm-up, as the bridge had (inference graph, caches)
                world.predict(sample.image, sample.instruction, num_samples=NUM_SAMPLES, seed=0)
            for _ in range(n_pred):
                t0 = time.perf_counter()
                world.predict(sample.image, sample.instruction, num_samples=NUM_SAMPLES, seed=0)
                model_t.append(time.perf_counter() - t0)

        worker = threading.Thread(target=model_alone)
        worker.start()
        worker.join()
    finally:
        if client is not None:
            client.close()
        bridge.stop()
        server.stop()

    (es50, es90), (ep50, ep90) = _stats(echo_s), _stats(echo_p)
    (t50, t90), (s50, s90), (m50, m90) = _stats(topic_t), _stats(service_t), _stats(model_t)
    b50, b90 = _stats(in_bridge_t)
    # per request: round trip minus the bridge's own model time for that request (the phases run in order)
    topic_over = statistics.median(r - m for r, m in zip(topic_t, in_bridge_t[:n_pred], strict=True)) * 1e3
    service_over = statistics.median(r - m for r, m in zip(service_t, in_bridge_t[n_pred:], strict=True)) * 1e3
    rows = [
        ("bare echo, std_msgs/String", es50, es90),
        ("bare echo, 16-pose nav_msgs/Path", ep50, ep90),
        (f"prediction by topic (instruction -> best Path, K={NUM_SAMPLES})", t50, t90),
        (f"prediction by service (/ct1/predict -> JSON, K={NUM_SAMPLES})", s50, s90),
        ("model alone (WorldModel.predict, a worker thread here)", m50, m90),
        ("model inside the bridge (its logged WorldModel.predict time)", b50, b90),
        ("ROS overhead per prediction by topic (median of round trip - its model time)", topic_over, float("nan")),
        ("ROS overhead per prediction by service (median of round trip - its model time)", service_over, float("nan")),
    ]
    print_table(f"ROS round trip through rosbridge-server-rs, 2 cores ({n_echo} echoes, {n_pred} predictions)",
                ["what", "p50 ms", "p90 ms"], rows)
    figures = {"echo_string_p50_ms": es50, "echo_path_p50_ms": ep50, "topic_p50_ms": t50, "topic_p90_ms": t90,
               "service_p50_ms": s50, "service_p90_ms": s90, "model_p50_ms": m50,
               "topic_over_echo_string": t50 / es50, "bridge_model_p50_ms": b50,
               "topic_overhead_ms": topic_over, "service_overhead_ms": service_over,
               "topic_overhead_over_echo_path": topic_over / ep50}
    emit_json("ros", figures)
    return figures
