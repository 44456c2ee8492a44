"""HTTP trajectory service on Ray Serve (2 replicas at 1 CPU each, ``@serve.batch``) vs the single-process server
(uvicorn, one process sampling with every core's threads, and with one thread as each replica does), requests/s and
p50/p99 latency at 1, 4 and 16 concurrent clients, K=8, in one run; plus how long Serve takes to come up on a local
Ray."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import requests
import torch
from bench_service import _measure
from harness import emit_json, print_table
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ct1_sim.data.samples import load_samples  # noqa: E402
from ct1_sim.service import ServiceSettings, create_app  # noqa: E402
from ct1_sim.service.ray_serve import ModelSpec, serving  # noqa: E402
from ct1_sim.world import WorldModel  # noqa: E402
from tests.cli_server import cli_server  # noqa: E402
from tests.service_helpers import free_port, running_server  # noqa: E402


def _warm_every_replica(url: str, body: bytes, replicas: int) -> float:
    """Send requests until ``replicas`` distinct ``X-CT1-Replica`` names answered (each first answer waits for that
    replica's warm-up); the seconds it took."""
    t0, seen = time.perf_counter(), set()
    while len(seen) < replicas:
        r = requests.post(f"{url}/v1/trajectories", files={"image": ("f.png", body, "image/png")},
                          data={"instruction": "go straight", "samples": 8, "seed": len(seen)}, timeout=300)
        r.raise_for_status()
        seen.add(r.headers.get("X-CT1-Replica", "single"))
    return time.perf_counter() - t0


def run(quick: bool = False) -> dict[str, float]:
    sample = load_samples()[0]
    buf = io.BytesIO()
    Image.fromarray(sample.image).save(buf, format="PNG")
    body = buf.getvalue()
    per_client = {1: 6, 4: 4, 16: 2} if quick else {1: 20, 4: 10, 16: 5}
    rows, figures = [], {}

    def measure(name: str, url: str) -> None:
        for clients, n in per_client.items():
            rps, p50, p99 = _measure(url, body, clients, n)
            rows.append([name, clients, rps, p50 * 1000, p99 * 1000])
            figures[f"rps_{clients}_{name}"] = rps
            figures[f"p50_ms_{clients}_{name}"] = p50 * 1000

    threads = torch.get_num_threads()
    world = WorldModel.from_pretrained(device="cpu", with_video=False)
    with running_server(create_app(world, ServiceSettings())) as url:
        _warm_every_replica(url, body, 1)
        measure("single", url)
    # one thread, as each replica samples: a process of its own (ONNX Runtime keeps one thread pool per process)
    with cli_server("--device", "cpu", env={"OMP_NUM_THREADS": "1"}) as url:
        _warm_every_replica(url, body, 1)
        measure("single_1thread", url)
    t0 = time.perf_counter()
    with serving(ModelSpec(device="cpu", with_video=False), ServiceSettings(), replicas=2, port=free_port()) as url:
        figures["serve_up_s"] = time.perf_counter() - t0
        figures["replicas_warm_s"] = _warm_every_replica(url, body, 2)
        measure("ray2", url)
    print_table("trajectory requests (K=8): one uvicorn process vs Ray Serve, 2 replicas x 1 CPU",
                ["server", "clients", "req/s", "p50 ms", "p99 ms"], rows)
    figures["ray2_vs_single_16_clients"] = figures["rps_16_ray2"] / figures["rps_16_single"]
    figures["ray2_vs_single_1thread_16_clients"] = figures["rps_16_ray2"] / figures["rps_16_single_1thread"]
    print(f"Serve up in {figures['serve_up_s']:.1f} s, both replicas warm {figures['replicas_warm_s']:.1f} s later; at 16 "
          f"clients Ray Serve gives {figures['ray2_vs_single_16_clients']:.2f}x the requests/s of the single process "
          f"({threads} threads), {figures['ray2_vs_single_1thread_16_clients']:.2f}x that of one with 1 thread")
    emit_json("service_ray", figures)
    return figures


if __name__ == "__main__":
    run()
