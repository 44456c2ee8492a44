"""The HTTP service through real uvicorn: trajectories, micro-batching, rollout jobs, limits, auth, metrics."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests

from ct1_sim.data.samples import load_samples
from ct1_sim.formats.json_format import trajectory_from_dict
from ct1_sim.paths import TRAJECTORY_MODEL, VIDEO_MODEL, default_model_dir
from ct1_sim.service import ServiceSettings, create_app
from ct1_sim.world import WorldModel
from tests.image_helpers import png_bytes
from tests.service_helpers import running_server
from tests.video_helpers import read_video
from tests.waiting import wait_for

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def world() -> WorldModel:
    """The shipped trajectory model and no video model (rollouts must then fail with the reason)."""
    return WorldModel(WorldModel.from_pretrained(default_model_dir(TRAJECTORY_MODEL), device="cpu").trajectory_model, None)


@pytest.fixture(scope="module")
def server(world: WorldModel):
    settings = ServiceSettings(token=TOKEN, max_upload_bytes=2 * 1024 * 1024, max_jobs=2, batch_window_ms=20)
    with running_server(create_app(world, settings)) as url:
        yield url


SAMPLE = load_samples()[0]


def post_trajectories(url: str, image: bytes | None = None, headers: dict | None = None, **fields: object) -> requests.Response:
    data = {"instruction": SAMPLE.instruction, "samples": 4, "seed": 0, "speed": SAMPLE.speed_mps, **fields}
    files = {"image": ("frame.png", png_bytes(SAMPLE.image) if image is None else image, "image/png")}
    return requests.post(f"{url}/v1/trajectories", data={k: v for k, v in data.items() if v is not None}, files=files,
                         headers=AUTH if headers is None else headers, timeout=120)


def test_trajectories_round_trip_and_seeded(server: str) -> None:
    r = post_trajectories(server)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["trajectories"]) == 4
    trajs = [trajectory_from_dict(t["trajectory"]) for t in body["trajectories"]]
    assert all(len(t) == 16 for t in trajs) and np.allclose(trajs[0].c2w[0], np.eye(4), atol=1e-6)
    assert {t["maneuver"] for t in body["trajectories"]} <= {"turn_left", "turn_right", "straight", "stop",
                                                             "lane_change_left", "lane_change_right"}
    again = post_trajectories(server).json()
    assert json.dumps(again) == json.dumps(body)  # same seed, same samples
    # Server-Timing says where the server's time went (ms): decode, the model call's sampling within it, the answer
    timing = {name: float(dur.split("=")[1]) for name, dur in (e.strip().split(";") for e in r.headers["Server-Timing"].split(","))}
    assert set(timing) == {"decode", "sample", "predict", "answer"}, r.headers["Server-Timing"]
    assert 0 < timing["sample"] <= timing["predict"] <= timing["answer"] and timing["decode"] > 0


def test_sixteen_concurrent_clients_are_micro_batched(server: str, world: WorldModel) -> None:
    seeds = list(range(16))
    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda s: post_trajectories(server, seed=s), seeds))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    alone = world.predict(SAMPLE.image, SAMPLE.instruction, num_samples=4, seed=5, speed=SAMPLE.speed_mps)
    got = trajectory_from_dict(responses[5].json()["trajectories"][0]["trajectory"])
    assert np.allclose(got.c2w, alone.trajectories[0].c2w, atol=1e-4)  # batched == alone for the same seed
    metrics = requests.get(f"{server}/metrics", headers=AUTH, timeout=10).text
    mean_batch = float(next(line.split()[1] for line in metrics.splitlines() if line.startswith("ct1_trajectory_batch_size_mean")))
    assert mean_batch > 1.0  # concurrent requests shared model calls
    assert 'ct1_requests_total{route="/v1/trajectories",status="200"}' in metrics


@pytest.mark.parametrize(
    ("image", "fields", "headers", "status", "field"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, {}, None, 422, "image"),  # corrupt image
        (b"just some text, not an image\n" * 10, {}, None, 422, "image"),  # text file as image
        (None, {"instruction": "   "}, None, 422, "instruction"),  # empty instruction
        (None, {"samples": 10**6}, None, 422, "samples"),
        (None, {"speed": "nan"}, None, 422, "speed"),
        (None, {}, {}, 401, None),  # missing token
        (None, {}, {"Authorization": "Bearer wrong"}, 401, None),
    ],
)
def test_bad_requests_get_clear_4xx(server: str, image: bytes | None, fields: dict, headers: dict | None, status: int,
                                    field: str | None) -> None:
    r = post_trajectories(server, image=image, headers=headers, **fields)
    assert r.status_code == status, r.text
    if field is not None:
        assert r.json()["detail"]["field"] == field and field in r.json()["detail"]["message"]
    assert requests.get(f"{server}/healthz", timeout=10).json()["status"] == "ok"  # still serving


@pytest.mark.parametrize(("text", "problem"), [
    ("x" * 10_000, "at most 500"), ("turn\x00 left", "control characters"), ("🚗🚗🚗", "has no words"),
])
def test_unreadable_instructions_are_422_naming_the_problem(server: str, text: str, problem: str) -> None:
    r = post_trajectories(server, instruction=text)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["field"] == "instruction" and problem in r.json()["detail"]["message"]


@pytest.mark.parametrize(("text", "maneuver", "nearest"), [
    ("make a U-turn", "u_turn", "turn_left"), ("reverse into the space", "reverse", "stop"), ("fly over the intersection", "impossible", "straight"),
    ("links abbiegen", "non_english", "straight"), ("向左转", "non_english", "straight"), ("tell me a joke", "not_driving", "straight"),
])
def test_unsupported_instructions_answer_supported_false_with_reason_and_nearest(server: str, text: str, maneuver: str, nearest: str) -> None:
    r = post_trajectories(server, instruction=text)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["supported"] is False and body["trajectories"] == []
    assert body["instruction"]["maneuver"] == maneuver and body["instruction"]["nearest"] == nearest and body["instruction"]["reason"]
    job = requests.post(f"{server}/v1/rollouts", data={"instruction": text}, files={"image": ("f.png", png_bytes(SAMPLE.image), "image/png")},
                        headers=AUTH, timeout=60)
    assert job.status_code == 422 and job.json()["detail"]["supported"] is False  # refused before a job starts


def test_supported_instructions_say_how_they_were_read(server: str) -> None:
    body = post_trajectories(server, instruction="hang a left up ahead and slow down").json()
    assert body["supported"] is True and len(body["trajectories"]) == 4
    assert body["instruction"]["maneuver"] == "turn_left" and body["instruction"]["supported"] is True


def test_oversized_upload_is_413_and_server_keeps_serving(server: str) -> None:
    big = b"\xff" * (50 * 1024 * 1024)
    r = requests.post(f"{server}/v1/trajectories", data={"instruction": "go"}, files={"image": ("big.png", big, "image/png")},
                      headers=AUTH, timeout=120)
    assert r.status_code == 413 and "limit" in r.text
    assert post_trajectories(server).status_code == 200


def test_rollout_without_video_model_fails_cleanly_and_nan_trajectory_is_422(server: str, world: WorldModel) -> None:
    files = {"image": ("frame.png", png_bytes(SAMPLE.image), "image/png")}
    assert world.video_model is None
    r = requests.post(f"{server}/v1/rollouts", data={"instruction": "turn left"}, files=files, headers=AUTH, timeout=60)
    assert r.status_code == 202, r.text
    job = r.json()["id"]

    def finished() -> dict | None:
        status = requests.get(f"{server}/v1/jobs/{job}", headers=AUTH, timeout=10).json()
        return status if status["status"] in ("done", "failed") else None

    status = wait_for(finished, 60, f"job {job} to finish")
    assert status["status"] == "failed" and "no video model" in status["error"]
    assert requests.get(f"{server}/v1/jobs/{job}/video.mp4", headers=AUTH, timeout=10).status_code == 409
    bad = json.dumps({"c2w": [[[float("nan")] * 4] * 4] * 2, "K": [[100, 0, 50], [0, 100, 50], [0, 0, 1]],
                      "image_size": [100, 100], "timestamps_us": [0, 200000]})
    files["trajectory"] = ("path.json", bad.encode(), "application/json")
    r = requests.post(f"{server}/v1/rollouts", data={"format": "json"}, files=files, headers=AUTH, timeout=60)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "trajectory", r.text
    one_pose = json.dumps({"c2w": [np.eye(4).tolist()], "K": [[100, 0, 50], [0, 100, 50], [0, 0, 1]],
                           "image_size": [100, 100], "timestamps_us": [0]})
    files["trajectory"] = ("path.json", one_pose.encode(), "application/json")
    r = requests.post(f"{server}/v1/rollouts", data={"format": "json"}, files=files, headers=AUTH, timeout=60)
    assert r.status_code == 422 and "at least 2" in r.json()["detail"]["message"], r.text  # refused now, not in the job
    assert requests.get(f"{server}/v1/jobs/nope", headers=AUTH, timeout=10).status_code == 404


def test_rollout_job_with_the_shipped_video_model(tmp_path: Path) -> None:
    if not (default_model_dir(VIDEO_MODEL) / "model_index.json").is_file():
        pytest.fail(f"the shipped video model is missing at {default_model_dir(VIDEO_MODEL)}")
    world = WorldModel.from_pretrained(device="cpu")
    with running_server(create_app(world, ServiceSettings(max_jobs=1))) as url:
        files = {"image": ("frame.png", png_bytes(SAMPLE.image), "image/png")}
        r = requests.post(f"{url}/v1/rollouts", data={"instruction": SAMPLE.instruction, "samples": 4, "seed": 1,
                                                      "num_frames": 8}, files=files, timeout=60)
        assert r.status_code == 202, r.text
        busy = requests.post(f"{url}/v1/rollouts", data={"instruction": "go"}, files=files, timeout=60)
        assert busy.status_code == 429  # the single job slot is taken
        job = r.json()["id"]
        progress = []

        def finished() -> dict | None:
            status = requests.get(f"{url}/v1/jobs/{job}", timeout=10).json()
            progress.append(status["progress"])
            return status if status["status"] in ("done", "failed") else None

        status = wait_for(finished, 120, f"job {job} to finish")
        assert status["status"] == "done", status
        assert progress == sorted(progress) and status["result"]["frames"] == 8
        video = requests.get(f"{url}/v1/jobs/{job}/video.mp4", timeout=10)
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        (tmp_path / "v.mp4").write_bytes(video.content)
        frames = read_video(tmp_path / "v.mp4")
        assert len(frames) == 8 and frames[0].shape == (256, 448, 3)
