"""CT-1 trajectory sampling: latency of ``sample`` (K=8, 10 DDIM steps, CFG) and FLOPs per query against this
machine's measured matmul FLOP/s, in one run."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import torch
from harness import emit_json, matmul_flops, print_table
from torch.utils.flop_counter import FlopCounterMode

from ct1_sim.trajectory import CT1TrajectoryConfig, CT1TrajectoryModel

REPO = Path(__file__).resolve().parents[1]


def _timed(fn) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(quick: bool = False) -> dict[str, float]:
    shipped = REPO / "model" / "ct1-tiny"
    model = CT1TrajectoryModel.from_pretrained(shipped, device="cpu") if (shipped / "config.json").is_file() else CT1TrajectoryModel(CT1TrajectoryConfig()).eval()
    image = np.random.default_rng(0).integers(0, 255, size=(256, 448, 3), dtype=np.uint8)
    g = torch.Generator().manual_seed(0)

    def query() -> None:
        model.sample(image, "turn left at the next intersection", num_samples=8, generator=g, speed=8.0)

    for _ in range(5):
        query()  # warm-up (TorchScript freezing, caches)
    times = [_timed(query) for _ in range(15 if quick else 60)]
    p50, p90 = statistics.median(times), float(np.percentile(times, 90))
    with FlopCounterMode(display=False) as counter:
        model.sample(image, "turn left at the next intersection", num_samples=8, generator=g, speed=8.0)
    flops = counter.get_total_flops()
    peak = matmul_flops()
    tokens = model.encode_images([image])
    text = model.encode_text(["turn left at the next intersection"])
    stage_calls = {
        "image encoder": lambda: model.encode_images([image]),
        "text encoder (cached)": lambda: model.encode_text(["turn left at the next intersection"]),
        "fusion + 10 DDIM steps x CFG": lambda: model.sample_tokens(tokens, text, torch.tensor([8.0]), 8, g),
    }
    stages = {name: statistics.median(_timed(fn) for _ in range(5 if quick else 20)) for name, fn in stage_calls.items()}  # medians
    rows = [("p50 latency (ms)", p50 * 1e3), ("p90 latency (ms)", p90 * 1e3), ("GFLOP per query", flops / 1e9),
            ("achieved GFLOP/s", flops / p50 / 1e9), ("matmul peak GFLOP/s (1024^2, this run)", peak / 1e9),
            ("share of matmul peak", flops / p50 / peak)] + [(f"stage: {k} (ms)", v * 1e3) for k, v in stages.items()]
    print_table("CT-1 trajectory sampling, K=8, 10 DDIM steps, CFG 1.5, 2 cores", ["what", "value"], rows)
    figures = {"p50_ms": p50 * 1e3, "p90_ms": p90 * 1e3, "gflop_per_query": flops / 1e9, "peak_share": flops / p50 / peak,
               "matmul_peak_gflops": peak / 1e9}
    emit_json("trajectory", figures)
    return figures
