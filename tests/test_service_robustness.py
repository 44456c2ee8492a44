"""The HTTP service under hostile or unlucky input, through real uvicorn: one bad query in a micro-batch fails
only itself, pixel bombs and oversized chunked bodies are refused with 4xx, unknown URLs do not grow the metrics,
and rollout jobs (rendered by a clearly named test double of the video model) serve their MP4."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import requests

from ct1_sim.data.samples import load_samples
from ct1_sim.formats import write_json
from ct1_sim.formats.json_format import trajectory_from_dict
from ct1_sim.service import ServiceSettings, create_app
from ct1_sim.service.batcher import TrajectoryBatcher, TrajectoryQuery
from ct1_sim.service.metrics import unlabelled_values
from ct1_sim.world import WorldModel
from tests.image_helpers import pixel_bomb_png, png_bytes
from tests.service_helpers import running_server
from tests.waiting import wait_for

SAMPLE = load_samples()[0]


def count_frames(path: Path) -> int:
    """Frames decodable from a video file (OpenCV, in process)."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


class GradientFramesTestDoubleVideoModel:
    """TEST DOUBLE of the video pipeline: returns a horizontal gradient that brightens over time, not a rendering.

    It takes the pipeline's call signature and reports stages like the real one; ``gate`` (when given) blocks each
    call until set, to hold a job in the running state.
    """

    def __init__(self, size: tuple[int, int] = (64, 48), gate: threading.Event | None = None) -> None:
        self.size, self.gate, self.calls = size, gate, 0

    def __call__(self, image: Any, trajectory: Any, num_frames: int = 16, callback: Any = None, **_: Any) -> Any:
        self.calls += 1
        if self.gate is not None and not self.gate.wait(timeout=60):
            raise TimeoutError("test gate was never opened")
        w, h = self.size
        ramp = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, None, :, None]  # (1,1,W,1)
        frames = np.broadcast_to(ramp, (num_frames, h, w, 3)) * np.linspace(0.3, 1.0, num_frames)[:, None, None, None]
        for i in range(num_frames):
            if callback is not None:
                callback("denoise", (i + 1) / num_frames)
        return SimpleNamespace(frames=frames[None].astype(np.float32))  # (1,T,H,W,3) in [0,1], as output_type="np"


@pytest.fixture(scope="module")
def world() -> WorldModel:
    """The shipped trajectory model, no video model."""
    return WorldModel(WorldModel.from_pretrained(device="cpu").trajectory_model, None)


@pytest.fixture(scope="module")
def server(world: WorldModel) -> Iterator[str]:
    settings = ServiceSettings(max_upload_bytes=1024 * 1024, batch_window_ms=50)
    with running_server(create_app(world, settings)) as url:
        yield url


def post_trajectories(url: str, image: bytes | None = None, **fields: object) -> requests.Response:
    data = {"instruction": SAMPLE.instruction, "samples": 2, "seed": 0, **fields}
    files = {"image": ("frame.png", png_bytes(SAMPLE.image) if image is None else image, "image/png")}
    return requests.post(f"{url}/v1/trajectories", data=data, files=files, timeout=120)


def wait_for_job(url: str, job_id: str, timeout_s: float = 60.0) -> dict[str, Any]:
    """The job's status once it is done or failed."""

    def finished() -> dict[str, Any] | None:
        status = requests.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()
        return status if status["status"] in ("done", "failed") else None

    return wait_for(finished, timeout_s, f"job {job_id} to finish")


def test_a_bad_query_in_a_micro_batch_fails_only_itself(world: WorldModel) -> None:
    """A query that slips past validation and breaks the model call must not take its batch neighbours down."""

    async def scenario() -> list[Any]:
        batcher = TrajectoryBatcher(world, max_batch=8, window_s=0.2)
        await batcher.start()
        try:
            good = [TrajectoryQuery(SAMPLE.image, SAMPLE.instruction, 2, seed, None) for seed in (1, 2)]
            tiny = TrajectoryQuery(np.zeros((4, 4, 3), np.uint8), SAMPLE.instruction, 2, 3, None)  # too small for the model
            return await asyncio.gather(*(batcher.submit(q) for q in (good[0], tiny, good[1])), return_exceptions=True)
        finally:
            await batcher.stop()

    first, bad, second = asyncio.run(scenario())
    assert isinstance(bad, ValueError) and "too small" in str(bad)
    alone = world.predict(SAMPLE.image, SAMPLE.instruction, num_samples=2, seed=2)
    assert np.allclose(second.trajectories[0].c2w, alone.trajectories[0].c2w, atol=1e-4)
    assert len(first.trajectories) == 2


def test_a_batch_waits_for_requests_still_being_decoded(world: WorldModel) -> None:
    """With requests still arriving (being read and decoded), a batch waits for them instead of starting half full;
    without the wait, or once none is left arriving (one that failed validation), it runs with what it has."""

    async def scenario(arriving_wait_s: float, second_comes: bool) -> int:
        batcher = TrajectoryBatcher(world, max_batch=8, window_s=0.0, arriving_wait_s=arriving_wait_s)
        await batcher.start()
        try:
            batcher.arriving = 1  # a second request is being decoded
            first = asyncio.ensure_future(batcher.submit(TrajectoryQuery(SAMPLE.image, SAMPLE.instruction, 2, 1, None)))
            while batcher.pending == 0 or batcher.queued:  # handshake: the batcher has taken the first query
                await asyncio.sleep(0)
            batcher.arriving = 0  # the second is decoded: it submits now, or failed validation and never will
            second = [asyncio.ensure_future(batcher.submit(TrajectoryQuery(SAMPLE.image, SAMPLE.instruction, 2, 2, None)))] if second_comes else []
            await asyncio.gather(first, *second)
            return batcher.batches
        finally:
            await batcher.stop()

    assert asyncio.run(scenario(arriving_wait_s=5.0, second_comes=True)) == 1
    assert asyncio.run(scenario(arriving_wait_s=0.0, second_comes=True)) == 2
    assert asyncio.run(scenario(arriving_wait_s=5.0, second_comes=False)) == 1  # no hang waiting for it


@pytest.mark.parametrize(
    ("image", "fields", "field"),
    [
        (pixel_bomb_png(), {}, "image"),  # 900 Mpx claimed in a 60-byte file
        (None, {"seed": 2**64}, "seed"),  # overflows torch's generator
        (None, {"seed": -1}, "seed"),
        (None, {"samples": "abc"}, "samples"),  # FastAPI's own 422, in the service's shape
        (None, {"speed": -3}, "speed"),
    ],
    ids=["pixel-bomb", "seed-2^64", "seed-negative", "samples-not-int", "speed-negative"],
)
def test_hostile_fields_get_422_naming_the_field(server: str, image: bytes | None, fields: dict, field: str) -> None:
    r = post_trajectories(server, image=image, **fields)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail["field"] == field and detail["message"].startswith(f"{field}:"), detail
    assert post_trajectories(server).status_code == 200  # still serving


def test_oversized_chunked_body_is_413_and_server_keeps_serving(server: str) -> None:
    """No Content-Length: the limit is enforced on the bytes as they stream in."""
    boundary = "ct1boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"big.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(8):  # 8 MiB against a 1 MiB limit
            yield b"\x00" * (1024 * 1024)

    try:
        r = requests.post(f"{server}/v1/trajectories", data=body(), timeout=60,
                          headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert r.status_code == 413, r.text
        assert r.json()["detail"]["field"] == "body"
    except requests.ConnectionError:
        pass  # the server may close the socket while the client still streams; the point is it did not read it all
    assert post_trajectories(server).status_code == 200


def test_unknown_paths_do_not_grow_metric_series(server: str) -> None:
    for i in range(5):
        assert requests.get(f"{server}/scan/{i}/admin.php", timeout=10).status_code == 404
    metrics = requests.get(f"{server}/metrics", timeout=10).text
    assert "/scan/" not in metrics and 'route="unmatched",status="404"' in metrics
    assert "ct1_trajectory_batches " in metrics


def _gauges(url: str) -> dict[str, float]:
    return unlabelled_values(requests.get(f"{url}/metrics", timeout=10).text)


def test_metrics_count_the_models_busy_time(server: str) -> None:
    """``ct1_trajectory_model_seconds_total`` grows by the model call of each request: at least the ``predict`` time
    the response reports, and no more than the request took."""
    before = _gauges(server)["ct1_trajectory_model_seconds_total"]
    t0 = time.perf_counter()
    r = post_trajectories(server)
    elapsed = time.perf_counter() - t0
    assert r.status_code == 200, r.text
    timing = dict(entry.strip().split(";dur=") for entry in r.headers["Server-Timing"].split(","))
    predict_s = float(timing["predict"]) / 1e3
    grown = _gauges(server)["ct1_trajectory_model_seconds_total"] - before
    assert predict_s - 1e-3 <= grown <= elapsed


def test_rollout_jobs_serve_their_mp4_with_a_test_double_video_model(world: WorldModel, tmp_path: Path) -> None:
    video = GradientFramesTestDoubleVideoModel()
    with running_server(create_app(WorldModel(world.trajectory_model, video), ServiceSettings())) as url:
        files = {"image": ("frame.png", png_bytes(SAMPLE.image), "image/png")}
        r = requests.post(f"{url}/v1/rollouts", data={"instruction": SAMPLE.instruction, "samples": 3, "seed": 4,
                                                      "num_frames": 6}, files=files, timeout=60)
        assert r.status_code == 202, r.text
        status = wait_for_job(url, r.json()["id"])
        assert status["status"] == "done" and status["progress"] == 1.0, status
        assert status["result"]["frames"] == 6 and len(status["result"]["trajectories"]) == 3
        mp4 = requests.get(f"{url}/v1/jobs/{status['id']}/video.mp4", timeout=10)
        assert mp4.status_code == 200 and mp4.headers["content-type"] == "video/mp4" and mp4.content[4:8] == b"ftyp"
        (tmp_path / "v.mp4").write_bytes(mp4.content)
        assert count_frames(tmp_path / "v.mp4") == 6

        # the same through an uploaded pose file (ct1-sim JSON) instead of an instruction
        path = trajectory_from_dict(status["result"]["trajectories"][0]["trajectory"])
        write_json(path, tmp_path / "path.json")
        files["trajectory"] = ("path.json", (tmp_path / "path.json").read_bytes(), "application/json")
        r = requests.post(f"{url}/v1/rollouts", data={"format": "json", "num_frames": 4}, files=files, timeout=60)
        assert r.status_code == 202, r.text
        assert wait_for_job(url, r.json()["id"])["status"] == "done"
        assert video.calls == 2


def test_full_job_queue_answers_429_then_recovers(world: WorldModel) -> None:
    gate = threading.Event()
    video = GradientFramesTestDoubleVideoModel(gate=gate)
    with running_server(create_app(WorldModel(world.trajectory_model, video), ServiceSettings(max_jobs=1))) as url:
        files = {"image": ("frame.png", png_bytes(SAMPLE.image), "image/png")}
        data = {"instruction": SAMPLE.instruction, "samples": 2, "num_frames": 3}
        first = requests.post(f"{url}/v1/rollouts", data=data, files=files, timeout=60)
        assert first.status_code == 202, first.text
        busy = requests.post(f"{url}/v1/rollouts", data=data, files=files, timeout=60)
        assert busy.status_code == 429 and "retry" in busy.text
        assert post_trajectories(url).status_code == 200  # trajectories are served while a rollout holds the queue
        gate.set()
        assert wait_for_job(url, first.json()["id"])["status"] == "done"
        again = requests.post(f"{url}/v1/rollouts", data=data, files=files, timeout=60)
        assert again.status_code == 202 and wait_for_job(url, again.json()["id"])["status"] == "done"


def test_default_settings_batch_the_requests_that_queued_while_the_model_was_busy(world: WorldModel) -> None:
    """With the default settings (no batching window) a request is taken as soon as the model is free, and the
    requests that queued meanwhile run as one batch, not one model call each."""
    app = create_app(world, ServiceSettings())
    with running_server(app) as url:
        batcher = app.state.batcher

        results: dict[int, requests.Response] = {}

        def post(seed: int) -> threading.Thread:
            thread = threading.Thread(target=lambda: results.__setitem__(seed, post_trajectories(url, seed=seed)))
            thread.start()
            return thread

        batches_before = batcher.batches
        with world.trajectory_lock:  # hold the model: the first request is taken and waits on it
            threads = [post(0)]
            wait_for(lambda: batcher.pending == 1 and batcher.queued == 0, 60, "the first request to be taken", interval=0.01)
            threads += [post(seed) for seed in (1, 2, 3, 4)]
            wait_for(lambda: batcher.queued == 4, 60, "four more requests to queue", interval=0.01)
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(r.status_code for r in results.values()) == [200] * 5
        assert (batcher.batches - batches_before, batcher.batched_queries) == (2, 5)  # [first], then the other four
        alone = world.predict(SAMPLE.image, SAMPLE.instruction, num_samples=2, seed=3)
        got = trajectory_from_dict(results[3].json()["trajectories"][1]["trajectory"])
        assert np.allclose(got.c2w, alone.trajectories[1].c2w, atol=1e-4)


def test_pending_trajectory_requests_are_capped_with_429(world: WorldModel) -> None:
    """A burst beyond ``max_pending`` is refused at once (429 naming the limit), not queued without bound; the
    requests already admitted are still answered."""
    app = create_app(world, ServiceSettings(max_pending=2, max_batch=1))
    with running_server(app) as url:
        batcher = app.state.batcher
        with world.trajectory_lock:  # hold the model: admitted requests wait
            results: list[requests.Response] = []
            threads = [threading.Thread(target=lambda: results.append(post_trajectories(url))) for _ in range(2)]
            for t in threads:
                t.start()
            wait_for(lambda: batcher.pending >= 2, 30, "both requests to be admitted")
            assert batcher.pending == 2
            refused = post_trajectories(url)
            assert refused.status_code == 429 and "limit 2" in refused.text and "retry" in refused.text
            assert "ct1_trajectory_requests_pending 2" in requests.get(f"{url}/metrics", timeout=10).text
        for t in threads:
            t.join(timeout=120)
        assert [r.status_code for r in results] == [200, 200]
        assert batcher.pending == 0
        assert post_trajectories(url).status_code == 200  # admitted again once the burst drained
