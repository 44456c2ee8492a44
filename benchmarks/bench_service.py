"""HTTP trajectory service: where the time of one request goes, and requests/s against the compute bound, in one run.

1. Stages of one ``POST /v1/trajectories`` (K=8, the bundled 448x256 sample frame), each timed alone in this process
   (median ms): multipart parsing, image decode (PNG and JPEG), crop + resize to the model's input, the condition,
   the model graph (image encoder + fusion + 10 DDIM steps with CFG), poses -> trajectories, maneuver labels, the
   response JSON. The end-to-end p50 at one client minus the stages is what uvicorn, FastAPI, the thread hand-offs
   and the client's socket work cost; the p50 minus the model graph is the overhead outside the model.
2. requests/s and p50/p99 latency with 1, 4 and 16 concurrent clients, micro-batching on (up to 16 requests per model
   call) and off (1 per call), through real uvicorn. The clients run in their own process (``http_load.py``) so that
   they do not share the server's GIL.
3. The compute bound: this host's matmul peak (measured twice in this run, the larger kept) over the FLOPs of one
   query (counted in eager mode), and the share of it reached at 16 clients with micro-batching; beside it, from the
   service's ``/metrics``, how the model's time went at 16 clients (queries per model call, the share of the time the
   model ran, its time per query) against the model alone at 16 queries per call in the same process.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from harness import emit_json, matmul_flops, print_table, time_call
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from http_load import BOUNDARY, multipart_body  # noqa: E402

from ct1_sim.data.samples import load_samples  # noqa: E402
from ct1_sim.metrics import classify_maneuvers  # noqa: E402
from ct1_sim.seeding import torch_generator  # noqa: E402
from ct1_sim.service import ServiceSettings, create_app, responses  # noqa: E402
from ct1_sim.service.metrics import unlabelled_values  # noqa: E402
from ct1_sim.service.validation import decode_upload  # noqa: E402
from ct1_sim.trajectory.backbones import prepare_images  # noqa: E402
from ct1_sim.trajectory.pose_tokens import tokens_to_trajectories  # noqa: E402
from ct1_sim.world import WorldModel  # noqa: E402
from tests.service_helpers import running_server  # noqa: E402

LOAD_CLIENT = Path(__file__).resolve().parent / "http_load.py"
K = 8
SPEED = 6.0


def _parse_multipart(body: bytes) -> Callable[[], object]:
    """Starlette's form parsing of ``body``, as FastAPI runs it for the route."""
    from starlette.requests import Request

    loop = asyncio.new_event_loop()
    headers = [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
               (b"content-length", str(len(body)).encode())]

    def parse() -> object:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def run() -> object:
            form = await Request({"type": "http", "method": "POST", "headers": headers}, receive).form()
            await form.close()
            return form

        return loop.run_until_complete(run())

    return parse


def _response_bytes() -> Callable[[Any], bytes]:
    """The route's prediction -> JSON body bytes: ``responses.prediction_body`` where the service has it, else what
    FastAPI does with the ``dict`` the route returned (validate it as ``dict[str, Any]``, then dump it)."""
    if hasattr(responses, "prediction_body"):
        return responses.prediction_body
    from pydantic import TypeAdapter

    adapter = TypeAdapter(dict[str, Any])
    return lambda prediction: adapter.dump_json(adapter.validate_python(responses.prediction_json(prediction)))


def _pillow_rgb(data: bytes) -> np.ndarray:
    """Pillow's full decode of ``data`` to RGB: the baseline of ``decode_image``'s OpenCV path, timed in the same run."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def _stages(world: WorldModel, png: bytes, jpeg: bytes, n: int) -> dict[str, float]:
    """Median ms of each stage of one request, timed alone."""
    sample = load_samples()[0]
    model = world.trajectory_model
    pipe = model.pipeline
    pixels = decode_upload(png, "image")
    prepared = prepare_images([pixels], model.encoder.input_size)
    text = model.encode_text([sample.instruction])
    speed = torch.tensor([SPEED])
    noise = pipe.prepare_noise(1, K, torch_generator(0))
    steps, scale = pipe.check_sampling(None, None)
    tokens = pipe.denoise_pixels(prepared, text, speed, noise, steps, scale)
    size = [(pixels.shape[1], pixels.shape[0])]
    trajectories = tokens_to_trajectories(tokens, size, model.config.rate_hz)[0]
    prediction = world.predict_batch([pixels], [sample.instruction], K, [0], [SPEED])[0]
    to_bytes = _response_bytes()

    def condition() -> None:
        model.interpret([sample.instruction])
        model.encode_text([sample.instruction])
        pipe.prepare_noise(1, K, torch_generator(0))

    calls = {
        "multipart parse (Starlette)": _parse_multipart(multipart_body(png, "frame.png", 0)),
        "decode PNG": lambda: decode_upload(png, "image"),
        "decode JPEG": lambda: decode_upload(jpeg, "image"),
        "decode PNG, Pillow alone (the decoder before OpenCV's fast path)": lambda: _pillow_rgb(png),
        "decode JPEG, Pillow alone": lambda: _pillow_rgb(jpeg),
        "crop + resize to the model input": lambda: prepare_images([pixels], model.encoder.input_size),
        "condition (instruction parse, text embedding, noise)": condition,
        f"model graph (image encoder + fusion + {steps} DDIM steps x CFG, {pipe.runtime})":
            lambda: pipe.denoise_pixels(prepared, text, speed, noise, steps, scale),
        "poses -> trajectories": lambda: tokens_to_trajectories(tokens, size, model.config.rate_hz),
        "maneuver labels": lambda: classify_maneuvers(trajectories),
        "response JSON (prediction -> bytes)": lambda: to_bytes(prediction),
    }
    return {name: time_call(fn, repeat=n) * 1e3 for name, fn in calls.items()}


def _flop_per_query(world: WorldModel) -> float:
    """FLOPs of one K=8 query, counted on the same model run eagerly."""
    sample = load_samples()[0]
    pipe = world.trajectory_model.pipeline
    runtime = pipe.__dict__["_runtime"]
    pipe.runtime = "torch"
    try:
        world.trajectory_model.sample(sample.image, sample.instruction, num_samples=K, generator=torch_generator(0), speed=SPEED)
        with FlopCounterMode(display=False) as counter:  # a second call: the instruction's text embedding is cached
            world.trajectory_model.sample(sample.image, sample.instruction, num_samples=K, generator=torch_generator(0), speed=SPEED)
    finally:
        pipe.runtime = runtime
    return float(counter.get_total_flops())


def _load(url: str, image_file: Path, clients: int, per_client: int) -> dict[str, Any]:
    """Run the load client in its own process; its JSON result."""
    out = subprocess.run([sys.executable, str(LOAD_CLIENT), url, str(image_file), "--clients", str(clients), "--per-client", str(per_client)],
                         check=False, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    result = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {"errors": [out.stderr[-500:]]}
    if out.returncode or result["errors"]:
        raise RuntimeError(f"load client failed: {result['errors'][:3]}")
    return result


def _outside_the_model_ms(result: dict[str, Any]) -> float:
    """Median over the requests of (client latency - the model's sampling time its ``Server-Timing`` reports): the
    overhead outside the model, each request against its own model time (the machine's speed drifts between runs)."""
    return float(np.median([lat * 1e3 - timing["sample"] for lat, timing in zip(result["latencies_s"], result["server_timing_ms"], strict=True)]))


def _gauges(url: str) -> dict[str, float]:
    """The service's unlabelled Prometheus values (``GET /metrics``)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
        return unlabelled_values(response.read().decode())


def run(quick: bool = False) -> dict[str, float]:
    sample = load_samples()[0]
    png_buf, jpeg_buf = io.BytesIO(), io.BytesIO()
    Image.fromarray(sample.image).save(png_buf, format="PNG")
    Image.fromarray(sample.image).save(jpeg_buf, format="JPEG", quality=90)
    png, jpeg = png_buf.getvalue(), jpeg_buf.getvalue()
    world = WorldModel(WorldModel.from_pretrained(device="cpu").trajectory_model, None)
    world.warm_up(batched=True)
    figures: dict[str, Any] = {}

    # 3a. the compute bound's two terms, before the servers run
    flop = _flop_per_query(world)
    peak = matmul_flops()

    # 1. stages of one request, timed alone
    stages = _stages(world, png, jpeg, 10 if quick else 40)

    # 2. through uvicorn, clients in their own process
    # 1b. the model alone, 16 queries in one batched call: the ceiling micro-batching can reach
    images = [world.prepare_image(sample.image)] * 16

    def batch16() -> None:
        world.predict_batch(images, [sample.instruction] * 16, K, list(range(16)), [SPEED] * 16)

    for _ in range(3):  # the first calls after the graph is built run up to 2x slower (one warm call was not enough)
        batch16()
    batched_ms = time_call(batch16, repeat=2 if quick else 5) / 16 * 1e3

    # 16 clients x 12: enough rounds that the first and last, partly filled batches do not decide the rate
    per_client = {1: 8, 4: 4, 16: 2} if quick else {1: 30, 4: 12, 16: 12}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        image_file = Path(tmp) / "frame.png"
        image_file.write_bytes(png)
        jpeg_file = Path(tmp) / "frame.jpg"
        jpeg_file.write_bytes(jpeg)
        for batching, max_batch in (("on", 16), ("off", 1)):
            with running_server(create_app(world, ServiceSettings(max_batch=max_batch))) as url:
                _load(url, image_file, 2, 2)  # warm-up: connections, the batched graph
                if batching == "on":  # one client uploading JPEG (a camera's usual encoding), for the overhead bar
                    result = _load(url, jpeg_file, 1, per_client[1])
                    figures["p50_ms_1_jpeg"] = float(np.median(result["latencies_s"]) * 1e3)
                    figures["outside_ms_1_jpeg"] = _outside_the_model_ms(result)
                for clients, n in per_client.items():
                    watched = clients == 16 and batching == "on"  # how the model's time went inside the service
                    before = _gauges(url) if watched else {}
                    cpu0 = time.process_time()
                    result = _load(url, image_file, clients, n)
                    after = _gauges(url) if watched else {}
                    server_cpu_ms = (time.process_time() - cpu0) / len(result["latencies_s"]) * 1e3
                    client_cpu_ms = result["cpu_s"] / len(result["latencies_s"]) * 1e3
                    lat = np.asarray(result["latencies_s"]) * 1e3
                    rps = len(lat) / result["wall_s"]
                    rows.append([batching, clients, rps, float(np.median(lat)), float(np.percentile(lat, 99)), server_cpu_ms, client_cpu_ms])
                    figures[f"rps_{clients}_batching_{batching}"] = rps
                    if clients == 1 and batching == "on":
                        figures["outside_ms_1"] = _outside_the_model_ms(result)
                        figures["server_timing_ms_1"] = {k: float(np.median([t[k] for t in result["server_timing_ms"]]))
                                                         for k in result["server_timing_ms"][0]}
                    figures[f"p50_ms_{clients}_batching_{batching}"] = float(np.median(lat))
                    if watched:
                        grown = {k: after[k] - before[k] for k in ("ct1_trajectory_batches", "ct1_trajectory_batched_queries",
                                                                    "ct1_trajectory_model_seconds_total")}
                        figures["service_16_mean_batch"] = grown["ct1_trajectory_batched_queries"] / grown["ct1_trajectory_batches"]
                        figures["service_16_model_busy_share"] = grown["ct1_trajectory_model_seconds_total"] / result["wall_s"]
                        figures["service_16_model_ms_per_query"] = grown["ct1_trajectory_model_seconds_total"] / len(lat) * 1e3
                    figures[f"server_cpu_ms_per_request_{clients}_batching_{batching}"] = server_cpu_ms
    peak = max(peak, matmul_flops())  # 3b. again after the load: the larger of the two

    graph_name = next(k for k in stages if k.startswith("model graph"))
    p50_1 = figures["p50_ms_1_batching_on"]
    inside = sum(stages[k] for k in stages if "JPEG" not in k and "Pillow alone" not in k)  # one request's own stages
    stage_rows = [[name, ms] for name, ms in stages.items()]
    stage_rows += [["uvicorn + FastAPI + hand-offs + sockets (p50 - the stages above but the JPEG and Pillow-alone ones)", p50_1 - inside],
                   ["end-to-end p50, one client (PNG)", p50_1],
                   ["outside the model graph (p50 - model graph)", p50_1 - stages[graph_name]],
                   *[[f"  server side, Server-Timing median: {k}", v] for k, v in figures["server_timing_ms_1"].items()],
                   ["outside the model (median per request of latency - its Server-Timing sample), PNG", figures["outside_ms_1"]],
                   ["end-to-end p50, one client (JPEG)", figures["p50_ms_1_jpeg"]],
                   ["outside the model (median per request of latency - its Server-Timing sample), JPEG", figures["outside_ms_1_jpeg"]]]
    print_table(f"one POST /v1/trajectories (K={K}, 448x256 PNG), ms; each stage timed alone", ["stage", "ms"], stage_rows)
    print_table(f"trajectory requests (K={K}) through uvicorn, clients in their own process",
                ["micro-batching", "clients", "req/s", "p50 ms", "p99 ms", "server CPU ms/req", "client CPU ms/req"], rows)
    bound = peak / flop
    share = figures["rps_16_batching_on"] / bound
    figures["speedup_16_clients"] = figures["rps_16_batching_on"] / figures["rps_16_batching_off"]
    print_table("compute bound", ["what", "value"], [
        ("GFLOP per query (eager count)", flop / 1e9), ("matmul peak GFLOP/s (1024^2, this run)", peak / 1e9),
        ("compute bound (queries/s)", bound), ("req/s at 16 clients, micro-batching", figures["rps_16_batching_on"]),
        ("share of the compute bound", share), ("micro-batching speed-up at 16 clients", figures["speedup_16_clients"]),
        ("model alone, 16 queries per call: ms per query", batched_ms),
        ("  = share of the compute bound the model alone reaches", 1e3 / batched_ms / bound),
        ("in the service at 16 clients: queries per model call (mean)", figures["service_16_mean_batch"]),
        ("  share of the time the model was running", figures["service_16_model_busy_share"]),
        ("  model time per query, ms (vs alone above)", figures["service_16_model_ms_per_query"])])
    figures.update({"gflop_per_query": flop / 1e9, "matmul_peak_gflops": peak / 1e9, "compute_bound_qps": bound,
                    "compute_bound_share_16": share, "model_batch16_ms_per_query": batched_ms,
                    "model_batch16_share_of_bound": 1e3 / batched_ms / bound, "overhead_outside_model_ms_1": p50_1 - stages[graph_name],
                    "http_stack_ms_1": p50_1 - inside, "torch_threads": torch.get_num_threads(),
                    "stages_ms": {name.split(" (")[0]: ms for name, ms in stages.items()}})
    emit_json("service", figures)
    return figures


if __name__ == "__main__":
    run()
