"""CT-1 trajectory sampling: latency of ``sample`` (K=8, 10 DDIM steps, CFG) on the default runtime (ONNX Runtime
on the CPU) and on eager PyTorch, with the FLOPs per query against this machine's measured matmul FLOP/s, in
one run. The two runtimes are timed one after the other, not interleaved: their thread pools would otherwise
compete for the cores in a way no real process (which uses one of them) sees."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import torch
from harness import emit_json, matmul_flops, print_table
from torch.utils.flop_counter import FlopCounterMode

from ct1_sim.trajectory import CT1TrajectoryModel
from ct1_sim.trajectory.backbones import prepare_images

REPO = Path(__file__).resolve().parents[1]
INSTRUCTION = "turn left at the next intersection"


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _load(runtime: str) -> CT1TrajectoryModel:
    shipped = REPO / "model" / "ct1-tiny"
    if (shipped / "config.json").is_file():
        return CT1TrajectoryModel.from_pretrained(shipped, device="cpu", runtime=runtime)
    model = CT1TrajectoryModel().eval()
    model.pipeline.runtime = runtime
    return model


def _latencies(model: CT1TrajectoryModel, image: np.ndarray, n: int) -> list[float]:
    g = torch.Generator().manual_seed(0)

    def query() -> None:
        model.sample(image, INSTRUCTION, num_samples=8, generator=g, speed=8.0)

    for _ in range(5):
        query()  # warm-up: graph building, caches
    return [_timed(query) for _ in range(n)]


def run(quick: bool = False) -> dict[str, float]:
    image = np.random.default_rng(0).integers(0, 255, size=(256, 448, 3), dtype=np.uint8)
    n = 15 if quick else 60
    model = _load("auto")
    times = _latencies(model, image, n)
    p50, p90 = statistics.median(times), float(np.percentile(times, 90))
    # the instruction parser's cost: the same model (and ONNX graph) conditioned on the raw text, the path before the
    # parser; queries with and without it alternate, so a slow phase of the host hits both alike
    parser = model.instruction_parser
    no_parser_p50 = float("nan")
    if parser is not None:
        g = torch.Generator().manual_seed(0)
        with_parser, without = [], []
        for _ in range(n):
            with_parser.append(_timed(lambda: model.sample(image, INSTRUCTION, num_samples=8, generator=g, speed=8.0)))
            model.set_instruction_parser(None)
            without.append(_timed(lambda: model.sample(image, INSTRUCTION, num_samples=8, generator=g, speed=8.0)))
            model.set_instruction_parser(parser)
        paired_p50, no_parser_p50 = statistics.median(with_parser), statistics.median(without)
        parse_ms = statistics.median(_timed(lambda: model.interpret([INSTRUCTION])) for _ in range(20)) * 1e3
    # stages of the default runtime
    pipe = model.pipeline
    pixels = prepare_images([image], model.encoder.input_size)
    text = model.encode_text([INSTRUCTION])
    noise = pipe.prepare_noise(1, 8, torch.Generator().manual_seed(0))
    steps, scale = pipe.check_sampling(None, None)
    stage_calls = {
        "prepare image (crop, resize)": lambda: prepare_images([image], model.encoder.input_size),
        "text encoder (cached)": lambda: model.encode_text([INSTRUCTION]),
        f"image encoder + fusion + 10 DDIM steps x CFG ({pipe.runtime})": lambda: pipe.denoise_pixels(pixels, text, torch.tensor([8.0]), noise, steps, scale),
    }
    stages = {name: statistics.median(_timed(fn) for _ in range(5 if quick else 20)) for name, fn in stage_calls.items()}
    model = stage_calls = None  # let the auto-runtime model go before the eager one loads
    eager = _load("torch")
    eager_times = _latencies(eager, image, max(10, n // 3))
    eager_p50 = statistics.median(eager_times)
    with FlopCounterMode(display=False) as counter:  # the same computation, counted in eager mode
        eager.sample(image, INSTRUCTION, num_samples=8, generator=torch.Generator().manual_seed(0), speed=8.0)
    flops = counter.get_total_flops()
    peak = matmul_flops()
    rows = [("p50 latency (ms)", p50 * 1e3), ("p90 latency (ms)", p90 * 1e3),
            ("p50 latency, eager PyTorch (ms)", eager_p50 * 1e3), ("speed-up over eager PyTorch", eager_p50 / p50),
            ("GFLOP per query", flops / 1e9), ("achieved GFLOP/s", flops / p50 / 1e9),
            ("matmul peak GFLOP/s (1024^2, this run)", peak / 1e9), ("share of matmul peak", flops / p50 / peak)]
    rows += [(f"stage: {k} (ms)", v * 1e3) for k, v in stages.items()]
    if parser is not None:
        rows += [("p50 latency, alternating: with the parser (ms)", paired_p50 * 1e3),
                 ("p50 latency, alternating: without the parser (raw text) (ms)", no_parser_p50 * 1e3),
                 ("latency with the parser / without", paired_p50 / no_parser_p50), ("stage: parse the instruction (ms)", parse_ms)]
    print_table("CT-1 trajectory sampling, K=8, 10 DDIM steps, CFG 1.5, 2 cores", ["what", "value"], rows)
    figures = {"p50_ms": p50 * 1e3, "p90_ms": p90 * 1e3, "eager_p50_ms": eager_p50 * 1e3, "speedup_vs_eager": eager_p50 / p50,
               "gflop_per_query": flops / 1e9, "peak_share": flops / p50 / peak, "matmul_peak_gflops": peak / 1e9,
               "no_parser_p50_ms": no_parser_p50 * 1e3, "paired_parser_p50_ms": paired_p50 * 1e3 if parser is not None else float("nan")}
    emit_json("trajectory", figures)
    return figures
