"""Replay on a nuScenes-format dataroot written by the tests (and on a toy clip store): metrics against an
independent computation, the shipped model end to end, Ray vs one process, kill and resume, the HTML report in
a real headless Chromium, and --video failing up front without a video model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from pyquaternion import Quaternion

from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov
from ct1_sim.metrics import classify_maneuver
from ct1_sim.replay import (
    METRICS,
    ClipStoreSource,
    NuScenesSource,
    ReplaySettings,
    maneuver_of_instruction,
    read_table,
    run_replay,
)
from ct1_sim.replay.predictors import ConstantVelocityWorld
from ct1_sim.world.world_model import Prediction, Rollout, WorldModel
from tests.chromium_check import check_page, chromium_binary
from tests.nuscenes_fixture import CAM_ROTATION, CAM_TRANSLATION, VERSION, write_fixture
from tests.toy_clips import arc_path, make_toy_store
from tests.waiting import wait_for

RATE_HZ, NUM_POSES = 5.0, 16


def _traj(c2w: np.ndarray, size: tuple[int, int] = (160, 90)) -> CameraTrajectory:
    ts = np.round(np.arange(len(c2w)) * 1e6 / RATE_HZ).astype(np.int64)
    return CameraTrajectory(c2w=c2w, K=intrinsics_from_fov(*size, 64.0), image_size=size, timestamps_us=ts)


class KnownWorld:
    """A deterministic predictor: sample 0 straight on at 5 m/s, sample 1 a left turn at 6 m/s; records the speeds."""

    video_model = None

    def __init__(self) -> None:
        self.samples = [_traj(arc_path("straight", 5.0)), _traj(arc_path("turn_left", 6.0))]
        self.speeds: list[float] = []

    def predict(self, image, instruction, num_samples=8, seed=None, speed=None) -> Prediction:
        self.speeds.append(speed)
        return Prediction(self.samples[:num_samples], [classify_maneuver(s) for s in self.samples[:num_samples]])


class FakeVideoWorld(ConstantVelocityWorld):
    """Constant-velocity paths plus a 'generated' video (a moving gradient), to exercise --video and the report."""

    video_model = "fake"

    def rollout(self, image, instruction, num_frames=16, num_samples=8, seed=None, speed=None) -> Rollout:
        pred = self.predict(image, instruction, num_samples, seed, speed)
        frames = np.zeros((num_frames, 64, 112, 3), np.uint8)
        frames[..., 0] = (np.arange(num_frames)[:, None, None] * 15) % 255
        frames[..., 1] = np.arange(112)[None, None, :] * 2
        return Rollout(pred.trajectories, pred.maneuvers, 0, frames, 5.0)


def _camera_c2w(truth: dict, t: float) -> np.ndarray:
    """Camera-to-world of the fixture at time ``t`` (s): ego pose interpolated (position linear, yaw linear) then
    composed with the CAM_FRONT calibration, computed here without ct1-sim's reader."""
    x, y, z = (np.interp(t, truth["t"], truth["xyz"][:, i]) for i in range(3))
    ego = np.eye(4)
    ego[:3, :3] = Quaternion(axis=[0, 0, 1], radians=float(np.interp(t, truth["t"], truth["yaw"]))).rotation_matrix
    ego[:3, 3] = (x, y, z)
    cam = np.eye(4)
    cam[:3, :3] = CAM_ROTATION.rotation_matrix
    cam[:3, 3] = CAM_TRANSLATION
    return ego @ cam


def _expected(truth: dict, t0: float, samples: list[CameraTrajectory], instructed: str) -> dict[str, float]:
    """The metric columns computed directly with numpy from the fixture's ego poses."""
    gt = np.stack([_camera_c2w(truth, t0 + i / RATE_HZ) for i in range(NUM_POSES)])
    gt = np.linalg.inv(gt[0]) @ gt
    P = np.stack([s.c2w[:, :3, 3] for s in samples])
    d = np.linalg.norm(P - gt[None, :, :3, 3], axis=-1)  # (K,T)
    cos = (np.einsum("tij,tij->t", gt[:, :3, :3], samples[0].c2w[:, :3, :3]) - 1) / 2
    out = {"min_ade": d.mean(1).min(), "min_fde": d[:, -1].min(), "ade": d[0].mean(), "fde": d[0, -1],
           "rot_err_deg": np.degrees(np.arccos(np.clip(cos, -1, 1))).mean(),
           "compliance": np.mean([classify_maneuver(s) == instructed for s in samples])}
    for sec in (1, 2, 3):
        out[f"l2_{sec}s"] = d[0, int(sec * RATE_HZ)]
        out[f"l2avg_{sec}s"] = d[0, 1 : int(sec * RATE_HZ) + 1].mean()
    return out


@pytest.fixture(scope="module")
def nuscenes_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("nus")
    return root, write_fixture(root)


@pytest.fixture(scope="module")
def model_run(nuscenes_root, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One replay of both fixture scenes with the shipped ct1-tiny in this process (K=4)."""
    out = tmp_path_factory.mktemp("replay") / "one"
    run_replay(NuScenesSource(str(nuscenes_root[0]), VERSION), out, ReplaySettings(num_samples=4))
    return out


def test_metrics_equal_an_independent_computation(tmp_path: Path) -> None:
    truth = write_fixture(tmp_path / "nus", gap=False, jump=False)
    world = KnownWorld()
    summary = run_replay(NuScenesSource(str(tmp_path / "nus"), VERSION), tmp_path / "out", ReplaySettings(num_samples=2), world=world)
    table = read_table(tmp_path / "out" / "keyframes.zarr")
    # 10 s scenes with keyframes every 0.5 s: those with a full 3 s future are t0 = 0 .. 7 s
    assert [int((table["scene"] == s).sum()) for s in ("scene-0001", "scene-0002")] == [15, 15]
    assert set(table["true_maneuver"][table["scene"] == "scene-0001"]) == {"turn_left"}
    assert set(table["true_maneuver"][table["scene"] == "scene-0002"]) == {"straight"}
    for i in range(len(table["scene"])):
        scene, t0 = str(table["scene"][i]), int(table["keyframe"][i]) * 0.5
        expected = _expected(truth[scene], t0, world.samples, str(table["true_maneuver"][i]))
        for key, value in expected.items():
            tol = 0.02 if key == "rot_err_deg" else 2e-3
            assert table[key][i] == pytest.approx(value, abs=tol), (scene, t0, key)
    # the model is given the true current speed (fixture: 6 m/s turning, 8 m/s straight)
    speeds = np.array(world.speeds)
    assert np.allclose(speeds[table["scene"] == "scene-0001"], 6.0, atol=0.05)
    assert np.allclose(speeds[table["scene"] == "scene-0002"], 8.0, atol=0.05)
    assert summary["overall"]["keyframes"] == 30
    assert summary["overall"]["min_ade"] == pytest.approx(float(table["min_ade"].mean()))


def test_fixed_instruction_is_scored_against_its_maneuver(tmp_path: Path) -> None:
    truth = write_fixture(tmp_path / "nus", gap=False, jump=False)
    settings = ReplaySettings(num_samples=2, instruction="turn left at the junction")
    run_replay(NuScenesSource(str(tmp_path / "nus"), VERSION, ("scene-0002",)), tmp_path / "out", settings, world=KnownWorld())
    table = read_table(tmp_path / "out" / "keyframes.zarr")
    assert set(table["instruction"]) == {"turn left at the junction"} and set(table["instructed_maneuver"]) == {"turn_left"}
    assert np.all(table["compliance"] == 0.5)  # sample 1 turns left, sample 0 does not
    assert maneuver_of_instruction("merge right") == "lane_change_right"
    assert maneuver_of_instruction("sing a song") is None
    assert truth  # the straight scene was replayed with a left-turn instruction


def test_shipped_model_end_to_end(model_run: Path) -> None:
    table = read_table(model_run / "keyframes.zarr", arrays=False)
    per_scene = json.loads((model_run / "summary.json").read_text())["scenes"]
    assert [s["scene"] for s in per_scene] == ["scene-0001", "scene-0002"]
    # the fixture's straight scene has a recording gap and a pose jump: those keyframes are skipped and counted
    assert per_scene[1]["skipped"].get("timestamp_gap", 0) > 0 and per_scene[1]["skipped"].get("pose_jump", 0) > 0
    assert len(table["scene"]) == sum(s["keyframes"] for s in per_scene) == 20  # 15 + 5 after the defects
    for key in METRICS:
        assert np.isfinite(table[key]).all(), key
    scene_table = read_table(model_run / "scenes" / "scene-0001" / "keyframes.zarr", arrays=True)
    assert scene_table["pred_c2w"].shape == (per_scene[0]["keyframes"], 4, 16, 4, 4)
    assert all((model_run / p).is_file() for p in table["overlay"])
    assert (model_run / "summary.csv").read_text().count("\n") == 3
    # the learned model does much better than chance on the turning scene: its samples turn left
    left = table["scene"] == "scene-0001"
    assert table["min_ade"][left].mean() < 3.0


@pytest.mark.slow  # two actors each load the model (~40 s on 2 shared cores)
def test_ray_workers_give_the_same_results(nuscenes_root, model_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "ray"
    run_replay(NuScenesSource(str(nuscenes_root[0]), VERSION), out, ReplaySettings(num_samples=4), workers=2)
    one, two = read_table(model_run / "keyframes.zarr"), read_table(out / "keyframes.zarr")
    for key in (*METRICS, "seed", "keyframe", "pred_maneuvers", "scene"):
        assert np.array_equal(one[key], two[key]), key
    for scene in ("scene-0001", "scene-0002"):
        a = read_table(model_run / "scenes" / scene / "keyframes.zarr", arrays=True)["pred_c2w"]
        b = read_table(out / "scenes" / scene / "keyframes.zarr", arrays=True)["pred_c2w"]
        assert np.array_equal(a, b), scene


#: ``ct1-sim replay ARGS`` in which the second scene hangs at its second keyframe, after writing ``ready``: the
#: test kills the process there, in the middle of scene-0002 with scene-0001 finished.
KILLED_REPLAY = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import ct1_sim.replay.runner as runner
    from ct1_sim.cli.app import main
    original = runner.replay_scene

    class HangsAtSecondKeyframe:
        def __init__(self, world):
            self.world, self.calls = world, 0
        def __getattr__(self, name):
            return getattr(self.world, name)
        def predict(self, *args, **kwargs):
            self.calls += 1
            if self.calls == 2:
                Path({ready!r}).write_text("x")  # tell the test, then wait to be killed
                time.sleep(600)
            return self.world.predict(*args, **kwargs)

    def second_scene_hangs(world, source, scene, settings):
        return original(HangsAtSecondKeyframe(world) if scene == "scene-0002" else world, source, scene, settings)

    runner.replay_scene = second_scene_hangs
    sys.argv = ["ct1-sim", *{args!r}]
    main()
    """
)


def test_killed_replay_resumes_without_redoing_finished_scenes(nuscenes_root, tmp_path: Path) -> None:
    out, ready = tmp_path / "out", tmp_path / "ready"
    args = ["replay", "--dataroot", str(nuscenes_root[0]), "--version", VERSION, "--out", str(out), "--samples", "2",
            "--predictor", "constant-velocity", "--no-report"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    log = tmp_path / "killed.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", KILLED_REPLAY.format(ready=str(ready), args=args)], env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)
    wait_for(lambda: ready.exists() or proc.poll() is not None, 120, "the replay to reach scene-0002's second keyframe")
    assert proc.poll() is None, f"the replay exited early: {log.read_text()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    first, second = out / "scenes" / "scene-0001" / "summary.json", out / "scenes" / "scene-0002" / "summary.json"
    assert first.is_file() and not second.is_file()
    cli = [str(Path(sys.executable).with_name("ct1-sim")), *args]
    before = first.stat()
    again = subprocess.run(cli, env=env, capture_output=True, check=False, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resuming: 1 of 2 scenes are already finished" in again.stderr
    assert first.stat().st_mtime_ns == before.st_mtime_ns and first.stat().st_ino == before.st_ino
    assert second.is_file() and not any((out / ".staging").iterdir())
    # the resumed run's results equal an uninterrupted one
    whole = tmp_path / "whole"
    run_replay(NuScenesSource(str(nuscenes_root[0]), VERSION), whole, ReplaySettings(num_samples=2), world=ConstantVelocityWorld())
    a, b = read_table(out / "keyframes.zarr"), read_table(whole / "keyframes.zarr")
    for key in METRICS:
        assert np.array_equal(a[key], b[key], equal_nan=True), key


def test_resume_refuses_other_settings(tmp_path: Path) -> None:
    write_fixture(tmp_path / "nus", gap=False, jump=False)
    source = NuScenesSource(str(tmp_path / "nus"), VERSION, ("scene-0002",))
    run_replay(source, tmp_path / "out", ReplaySettings(num_samples=2), world=ConstantVelocityWorld(), report=False)
    with pytest.raises(ValueError, match="settings.*differ.*new --out"):
        run_replay(source, tmp_path / "out", ReplaySettings(num_samples=3), world=ConstantVelocityWorld(), report=False)


def test_video_without_a_video_model_fails_up_front(tmp_path: Path) -> None:
    write_fixture(tmp_path / "nus", gap=False, jump=False)
    with pytest.raises(RuntimeError, match="no video model is loaded"):
        run_replay(NuScenesSource(str(tmp_path / "nus"), VERSION), tmp_path / "out", ReplaySettings(video=True),
                   world=WorldModel(trajectory_model=object(), video_model=None))
    assert not (tmp_path / "out").exists()  # nothing was started


def test_clip_store_replay(tmp_path: Path) -> None:
    store = make_toy_store(tmp_path / "toy.zarr", {"test": 3})
    summary = run_replay(ClipStoreSource(str(store.path)), tmp_path / "out", ReplaySettings(num_samples=2), world=ConstantVelocityWorld())
    table = read_table(tmp_path / "out" / "keyframes.zarr")
    assert summary["overall"]["keyframes"] == 3 and list(table["true_maneuver"]) == ["straight", "turn_left", "turn_right"]
    # straight on at the true speed is exact on the straight clip
    assert table["min_ade"][0] == pytest.approx(0.0, abs=1e-6) and table["min_ade"][1] > 1.0


@pytest.mark.skipif(chromium_binary() is None, reason="needs Debian's chromium (make system-deps installs it)")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    store = make_toy_store(tmp_path / "toy.zarr", {"test": 2})
    run_replay(ClipStoreSource(str(store.path)), tmp_path / "out", ReplaySettings(num_samples=2, video=True), world=FakeVideoWorld())
    html = (tmp_path / "out" / "report.html").read_text()
    assert "http://" not in html and "https://" not in html  # offline: nothing from a CDN
    result = check_page(tmp_path / "out" / "report.html")
    # 3 plots (no "along the drive" plot for one-keyframe scenes) + 2 overlays
    assert len(result["images"]) == 3 + 2 and all(i["ok"] for i in result["images"]), result["images"]
    assert len(result["videos"]) == 2 * 2 and all(v["ok"] and v["width"] == 112 for v in result["videos"]), result["videos"]
    assert result["console"] == []
    # the check itself sees a broken image and a console error
    bad = tmp_path / "out" / "bad.html"
    bad.write_text('<html><body><img src="nope.png"><script>console.error("boom")</script></body></html>')
    broken = check_page(bad)
    assert not broken["images"][0]["ok"] and any("boom" in line for line in broken["console"])


@pytest.mark.parametrize("workers", [0, 2], ids=["one-process", "ray"])
def test_a_bad_model_writes_nothing_so_the_corrected_retry_runs(tmp_path: Path, workers: int) -> None:
    from ct1_sim.replay import WorldSpec

    source = ClipStoreSource(str(make_toy_store(tmp_path / "toy.zarr", {"test": 2}).path))
    out = tmp_path / "out"
    with pytest.raises(FileNotFoundError, match="typo is not a CT-1 trajectory model folder"):  # also from a Ray actor
        run_replay(source, out, ReplaySettings(num_samples=2), spec=WorldSpec(model=str(tmp_path / "typo")),
                   workers=workers, report=False)
    assert not out.exists()  # no run.json recording the bad model, which would refuse the retry
    summary = run_replay(source, out, ReplaySettings(num_samples=2), spec=WorldSpec(predictor="constant-velocity"),
                         report=False)
    assert summary["overall"]["keyframes"] == 2


def test_gpus_per_worker_are_asked_of_ray_for_each_worker(tmp_path: Path) -> None:
    from ct1_sim.replay import WorldSpec

    source = ClipStoreSource(str(make_toy_store(tmp_path / "toy.zarr", {"test": 2}).path))
    spec, settings = WorldSpec(predictor="constant-velocity"), ReplaySettings(num_samples=2)
    with pytest.raises(ValueError, match="--gpus-per-worker applies to Ray workers"):
        run_replay(source, tmp_path / "one", settings, spec=spec, gpus_per_worker=1, report=False)
    with pytest.raises(ValueError, match=r"2 Ray actor\(s\) with 64 GPU each need 128 GPU\(s\), but the Ray cluster has"):
        run_replay(source, tmp_path / "ray", settings, spec=spec, workers=2, gpus_per_worker=64, report=False)
    assert not (tmp_path / "one").exists() and not (tmp_path / "ray").exists()
