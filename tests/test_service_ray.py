"""The HTTP service on Ray Serve (``ct1-sim serve --ray``): 2 replicas at 1 CPU each on one machine both serve, name
themselves in ``X-CT1-Replica``, answer exactly as the single-process server does for the same seed, keep its token
auth and upload limit, and share one rollout queue (a job posted to one replica is read on the other)."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
import ray
import requests

from ct1_sim.data.samples import load_samples
from ct1_sim.formats.json_format import trajectory_from_dict
from ct1_sim.paths import TRAJECTORY_MODEL, default_model_dir
from ct1_sim.ray_pool import check_ray_address
from ct1_sim.service import ServiceSettings
from ct1_sim.service.metrics import unlabelled_values
from ct1_sim.service.ray_serve import ModelSpec, replica_threads, serving
from tests.cli_server import cli_server
from tests.image_helpers import png_bytes
from tests.service_helpers import free_port
from tests.test_cli_errors import assert_clear_error, run
from tests.waiting import wait_for

TOKEN = "ray-s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SETTINGS = ServiceSettings(token=TOKEN, max_upload_bytes=1024 * 1024, max_jobs=2)
SAMPLE = load_samples()[0]
HEADER = "X-CT1-Replica"


@pytest.fixture(scope="module")
def ray_url() -> Any:
    """The service on a local Ray started for it: 2 ingress replicas at 1 CPU each (the trajectory model only) and the
    rollout queue without a video model; shut down, Ray included, at the end of the module."""
    assert not ray.is_initialized()
    with serving(ModelSpec(device="cpu", with_video=False), SETTINGS, replicas=2, port=free_port()) as url:
        yield url
    assert not ray.is_initialized()  # serving started Ray, so it shut it down


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``ct1-sim serve``, the single-process server, with the same limits and token and the shipped trajectory model
    (a models folder holding only it: no video model), sampling with as many threads as each replica
    (``OMP_NUM_THREADS``; float32 sums split over another thread count differ in the last bits, ~6e-6 m here)."""
    models = tmp_path_factory.mktemp("models")
    (models / TRAJECTORY_MODEL).symlink_to(default_model_dir(TRAJECTORY_MODEL).resolve())
    env = {"OMP_NUM_THREADS": str(replica_threads(1)), "CT1_SIM_MODELS": str(models)}
    with cli_server("--token", TOKEN, "--max-upload-mb", "1", "--max-jobs", "2", "--device", "cpu", env=env) as url:
        yield url


def form(seed: int) -> dict[str, Any]:
    """A trajectory request; K = 8, the K the servers warm their inference graphs up with (another K builds new ones)."""
    return {"data": {"instruction": SAMPLE.instruction, "samples": 8, "seed": seed, "speed": SAMPLE.speed_mps},
            "files": {"image": ("frame.png", png_bytes(SAMPLE.image), "image/png")}, "headers": AUTH}


def post(url: str, route: str, **kwargs: Any) -> requests.Response:
    return requests.post(f"{url}{route}", timeout=120, **kwargs)


@pytest.fixture
def root_logging() -> Any:
    """The root logger's handlers as they were before the CLI bound them to its runner's stream (closed after it)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_cli_refuses_bad_ray_input_in_one_line(root_logging: None) -> None:
    """First in the module: before its Ray starts."""
    assert_clear_error(run("serve", "--ray", "--replicas", "0"), "--replicas must be >= 1, got 0")
    assert_clear_error(run("serve", "--replicas", "2"), "go with --ray")
    t0 = time.perf_counter()
    port = free_port()  # nothing listens there
    assert_clear_error(run("serve", "--ray", "--ray-address", f"127.0.0.1:{port}"), f"127.0.0.1:{port}", "no Ray cluster answers")
    assert_clear_error(run("serve", "--ray", "--ray-address", f"ray://127.0.0.1:{port}"), "no Ray cluster answers")
    assert time.perf_counter() - t0 < 30  # refused at once, not after Ray's own two-minute wait
    with pytest.raises(ValueError, match="is not HOST:PORT"):
        check_ray_address("head-node")


def test_both_replicas_serve_trajectories_equal_to_the_single_process_servers(local: str, ray_url: str) -> None:
    answered: dict[str, int] = {}  # replica -> the first seed it answered
    for seed in range(40):  # Serve's proxy picks one of the two idle replicas at random: both show within a few
        r = post(ray_url, "/v1/trajectories", **form(seed))
        assert r.status_code == 200, r.text
        expected = post(local, "/v1/trajectories", **form(seed))
        assert expected.status_code == 200 and HEADER not in expected.headers
        assert r.json() == expected.json(), f"seed {seed}: replica {r.headers[HEADER]} differs from the single-process server"
        answered.setdefault(r.headers[HEADER], seed)
        if len(answered) == 2:
            break
    assert len(answered) == 2, f"only {set(answered)} answered 40 requests"
    assert all(name.startswith("ct1-sim#") for name in answered)


def test_concurrent_requests_are_batched_by_serve_batch(local: str, ray_url: str) -> None:
    seeds = list(range(100, 116))
    with ThreadPoolExecutor(len(seeds)) as pool:
        responses = list(pool.map(lambda s: post(ray_url, "/v1/trajectories", **form(s)), seeds))
    assert [r.status_code for r in responses] == [200] * len(seeds), [r.text for r in responses if r.status_code != 200]
    assert len({r.headers[HEADER] for r in responses}) == 2
    for seed, r in zip(seeds, responses, strict=True):
        expected = post(local, "/v1/trajectories", **form(seed)).json()
        assert_close(r.json(), expected)

    def batch_sizes() -> dict[str, tuple[float, float]] | None:
        """(model calls, queries answered) of each replica, read from its /metrics (each GET lands on one)."""
        got: dict[str, tuple[float, float]] = {}
        for _ in range(20):
            m = requests.get(f"{ray_url}/metrics", headers=AUTH, timeout=10)
            values = unlabelled_values(m.text)
            got[m.headers[HEADER]] = (float(values["ct1_trajectory_batches"]), float(values["ct1_trajectory_batched_queries"]))
            if len(got) == 2:
                return got
        return None

    sizes = wait_for(batch_sizes, 30, "both replicas' metrics")
    calls, queries = (sum(v[i] for v in sizes.values()) for i in (0, 1))
    assert queries >= len(seeds) and calls < queries, sizes  # some model calls answered several requests


def assert_close(got: dict[str, Any], expected: dict[str, Any]) -> None:
    """Batched with other requests, a query's floats may differ from the lone run's in the last bits (batched ==
    alone is the single-process server's own contract, to 1e-4); labels and shapes are exact."""
    assert [t["maneuver"] for t in got["trajectories"]] == [t["maneuver"] for t in expected["trajectories"]]
    for a, b in zip(got["trajectories"], expected["trajectories"], strict=True):
        assert np.allclose(trajectory_from_dict(a["trajectory"]).c2w, trajectory_from_dict(b["trajectory"]).c2w, atol=1e-4)


def test_token_and_upload_limit_hold_on_every_replica(ray_url: str) -> None:
    refused: dict[str, requests.Response] = {}
    for _ in range(40):
        r = post(ray_url, "/v1/trajectories", data={"instruction": "go"}, files={"image": ("f.png", b"x", "image/png")})
        refused[r.headers[HEADER]] = r
        if len(refused) == 2:
            break
    assert len(refused) == 2 and all(r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer" for r in refused.values())
    health = requests.get(f"{ray_url}/healthz", timeout=10)  # open without the token, like /docs
    assert health.status_code == 200 and health.json()["trajectory_model"] is True and health.json()["video_model"] is False
    big = post(ray_url, "/v1/trajectories", data=b"\x00" * (2 * 1024 * 1024), headers={**AUTH, "Content-Type": "multipart/form-data; boundary=x"})
    assert big.status_code == 413 and big.json()["detail"]["field"] == "body" and HEADER in big.headers


def test_a_rollout_job_posted_to_one_replica_is_read_on_both(local: str, ray_url: str) -> None:
    job_form = form(3)
    job_form["data"]["num_frames"] = 4
    submitted = post(ray_url, "/v1/rollouts", **job_form)
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()["id"]
    readers: dict[str, dict[str, Any]] = {}

    def read_on_both() -> bool:
        r = requests.get(f"{ray_url}/v1/jobs/{job}", headers=AUTH, timeout=10)
        assert r.status_code == 200, r.text  # never a 404 from a replica that did not take the job
        if r.json()["status"] in ("done", "failed"):
            readers[r.headers[HEADER]] = r.json()
        return len(readers) == 2

    wait_for(read_on_both, 60, f"job {job} finished and read on both replicas")
    first, second = readers.values()
    assert first == second and first["status"] == "failed"

    expected_id = post(local, "/v1/rollouts", **job_form).json()["id"]
    expected = wait_for(lambda: (s := requests.get(f"{local}/v1/jobs/{expected_id}", headers=AUTH, timeout=10).json())["status"]
                        == "failed" and s, 60, "the single-process server's job")
    assert first["error"] == expected["error"] and "video" in first["error"]  # no video model: the same reason
    video = requests.get(f"{ray_url}/v1/jobs/{job}/video.mp4", headers=AUTH, timeout=10)
    assert video.status_code == 409 and "failed" in video.text
    assert requests.get(f"{ray_url}/v1/jobs/nope", headers=AUTH, timeout=10).status_code == 404
