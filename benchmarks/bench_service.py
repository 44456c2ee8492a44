"""HTTP trajectory service: requests/s and p50/p99 latency with 1, 4 and 16 concurrent clients, micro-batching on
(up to 16 requests per model call) vs off (1 per call), through real uvicorn, in one run."""

from __future__ import annotations

import io
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests
from harness import emit_json, print_table
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ct1_sim.data.samples import load_samples  # noqa: E402
from ct1_sim.service import ServiceSettings, create_app  # noqa: E402
from ct1_sim.world import WorldModel  # noqa: E402
from tests.service_helpers import running_server  # noqa: E402


def _measure(url: str, body: bytes, clients: int, per_client: int) -> tuple[float, float, float]:
    """(requests/s, p50 s, p99 s) of ``clients`` threads each sending ``per_client`` requests back to back."""
    session_times: list[float] = []

    def client(c: int) -> list[float]:
        out = []
        with requests.Session() as s:
            for i in range(per_client):
                t0 = time.perf_counter()
                r = s.post(f"{url}/v1/trajectories", files={"image": ("f.png", body, "image/png")},
                           data={"instruction": "turn left at the next intersection", "samples": 8, "seed": c * 1000 + i, "speed": 6.0})
                r.raise_for_status()
                out.append(time.perf_counter() - t0)
        return out

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for times in pool.map(client, range(clients)):
            session_times += times
    wall = time.perf_counter() - t0
    return len(session_times) / wall, statistics.median(session_times), float(np.percentile(session_times, 99))


def run(quick: bool = False) -> dict[str, float]:
    sample = load_samples()[0]
    buf = io.BytesIO()
    Image.fromarray(sample.image).save(buf, format="PNG")
    body = buf.getvalue()
    world = WorldModel(WorldModel.from_pretrained(device="cpu").trajectory_model, None)
    per_client = {1: 6, 4: 4, 16: 2} if quick else {1: 20, 4: 10, 16: 5}
    rows, figures = [], {}
    for batching, max_batch in (("on", 16), ("off", 1)):
        with running_server(create_app(world, ServiceSettings(max_batch=max_batch))) as url:
            _measure(url, body, 1, 2)  # warm-up
            for clients, n in per_client.items():
                rps, p50, p99 = _measure(url, body, clients, n)
                rows.append([batching, clients, rps, p50 * 1000, p99 * 1000])
                figures[f"rps_{clients}_batching_{batching}"] = rps
                figures[f"p50_ms_{clients}_batching_{batching}"] = p50 * 1000
    print_table("trajectory requests (K=8) through uvicorn", ["micro-batching", "clients", "req/s", "p50 ms", "p99 ms"], rows)
    figures["speedup_16_clients"] = figures["rps_16_batching_on"] / figures["rps_16_batching_off"]
    print(f"micro-batching at 16 clients: {figures['speedup_16_clients']:.2f}x the requests/s without it")
    emit_json("service", figures)
    return figures


if __name__ == "__main__":
    run()
