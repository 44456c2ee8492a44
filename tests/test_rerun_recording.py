"""``--rerun FILE.rrd`` on ``replay``, ``sim run`` and ``generate``: each command runs on the smallest input the other
tests use, and the recording is read back with rerun's own reader (``rerun.dataframe``) and compared with the
command's other outputs: entity paths, the number of camera frames and path strips, timestamps, scalar values,
the pinhole and the 3D paths."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import rerun as rr  # in the dev extra (ct1-sim[rerun]): a missing install fails here instead of skipping
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.data.samples import SAMPLES_DIR, load_samples
from ct1_sim.replay import NuScenesSource, read_table
from tests.nuscenes_fixture import VERSION, write_fixture

SAMPLE = load_samples()[0]
IMAGE = str(SAMPLES_DIR / f"{SAMPLE.name}.png")


def run(*args: str):  # -> click's Result
    return CliRunner().invoke(app, list(args))


class Recording:
    """A .rrd file read back with ``rerun.dataframe``: one row per value of the ``frame`` timeline."""

    def __init__(self, path: Path) -> None:
        recording = rr.dataframe.load_recording(str(path))
        self.entities = {c.entity_path for c in recording.schema().component_columns()}
        self.table = recording.view(index="frame", contents="/**").select().read_all()
        self.static = recording.view(index="frame", contents="/world/**").select_static().read_all()

    def column(self, entity: str, component: str) -> list:
        return self.table.column(f"{entity}:{component}").to_pylist()

    def rows_with(self, entity: str, component: str) -> list[int]:
        """Frame numbers at which ``entity`` logged ``component``."""
        frames = self.table.column("frame").to_pylist()
        return [f for f, v in zip(frames, self.column(entity, component), strict=True) if v is not None]

    def times_us(self, entity: str, component: str) -> list[int]:
        times = self.table.column("time").cast("int64").to_pylist()
        return [t // 1000 for t, v in zip(times, self.column(entity, component), strict=True) if v is not None]

    def values(self, entity: str, component: str) -> list:
        return [v[0] if isinstance(v, list) and len(v) == 1 else v for v in self.column(entity, component) if v is not None]


def pinhole_K(value: list[float]) -> np.ndarray:
    return np.array(value, dtype=np.float64).reshape(3, 3).T  # rerun stores Mat3x3 column-major


def test_replay_recording_matches_the_replay_tables(tmp_path: Path) -> None:
    write_fixture(tmp_path / "nus", gap=False, jump=False)
    out, rrd = tmp_path / "out", tmp_path / "replay.rrd"
    result = run("replay", "--dataroot", str(tmp_path / "nus"), "--version", VERSION, "--out", str(out), "--samples", "2",
                 "--predictor", "constant-velocity", "--no-report", "--rerun", str(rrd))
    assert result.exit_code == 0, result.output
    table = read_table(out / "keyframes.zarr", arrays=True)
    rec = Recording(rrd)
    assert {"/world", "/world/camera", "/world/camera/image", "/world/paths/samples", "/world/paths/truth", "/bev/samples",
            "/bev/truth", "/metrics/min_ade", "/metrics/l2_3s", "/instruction"} <= rec.entities
    n = len(table["timestamp_us"])
    assert n == 30  # 15 keyframes in each of the fixture's two scenes
    assert rec.rows_with("/world/camera/image", "Blob") == list(range(n))
    assert rec.times_us("/world/camera/image", "Blob") == table["timestamp_us"].tolist()
    strips = rec.values("/world/paths/samples", "LineStrip3D")
    assert len(strips) == n and all(len(s) == 2 and all(len(p) == 16 for p in s) for s in strips)
    assert len(rec.values("/bev/truth", "LineStrip2D")) == n
    assert rec.values("/metrics/min_ade", "Scalar") == table["min_ade"].tolist()  # float64, exact
    # the camera and the true path sit where the source puts them (absolute nuScenes poses, float32 in rerun)
    keyframes = [kf for scene in ("scene-0001", "scene-0002")
                 for kf in NuScenesSource(str(tmp_path / "nus"), VERSION).load(scene).keyframes]
    truth = np.array(rec.values("/world/paths/truth", "LineStrip3D")[0])  # one strip, unwrapped
    np.testing.assert_allclose(truth, keyframes[0].truth.positions, atol=1e-3)
    np.testing.assert_allclose(rec.values("/world/camera", "Translation3D")[7], keyframes[7].truth.positions[0], atol=1e-3)
    np.testing.assert_allclose(pinhole_K(rec.values("/world/camera/image", "PinholeProjection")[0]), keyframes[0].truth.K,
                               rtol=1e-6)
    w, h = keyframes[0].frames.shape[2], keyframes[0].frames.shape[1]
    assert rec.values("/world/camera/image", "Resolution")[0] == [w, h]


def test_sim_run_recording_matches_the_episode(tmp_path: Path) -> None:
    out, rrd = tmp_path / "drive", tmp_path / "drive.rrd"
    result = run("sim", "run", "--policy", "ct1", "--town", "0", "--route", "turn left", "--seconds", "1",
                 "--out", str(out), "--rerun", str(rrd))
    assert result.exit_code == 0, result.output
    steps = json.loads((out / "metrics.json").read_text())["steps"]
    frames = iio.imread(out / "camera.mp4")
    rec = Recording(rrd)
    assert {"/world/camera/image", "/world/route", "/world/paths/samples", "/world/paths/chosen", "/bev/samples",
            "/metrics/v", "/metrics/progress_m", "/metrics/episode/pdms"} <= rec.entities
    assert len(steps) == 10 and len(frames) == 11  # the reset frame and one per step
    assert rec.rows_with("/world/camera/image", "Blob") == list(range(11))
    assert rec.times_us("/world/camera/image", "Blob") == [100_000 * i for i in range(11)]
    # the ct1 policy replans every 0.5 s: K = 8 sampled paths at 0 and 0.5 s (at 1.0 s the episode has ended)
    assert rec.rows_with("/world/paths/samples", "LineStrip3D") == [0, 5]
    assert all(len(s) == 8 for s in rec.values("/world/paths/samples", "LineStrip3D"))
    assert rec.values("/metrics/v", "Scalar") == [s["v"] for s in steps]
    assert rec.times_us("/metrics/v", "Scalar") == [round(s["t"] * 1e6) for s in steps]
    summary = json.loads((out / "metrics.json").read_text())["summary"]
    assert rec.values("/metrics/episode/pdms", "Scalar") == [summary["pdms"]]
    assert rec.static.num_rows == 1 and "/world/route:LineStrip3D" in rec.static.schema.names


def test_generate_recording_follows_the_generated_frames(tmp_path: Path) -> None:
    from ct1_sim.cli.predict import load_image
    from ct1_sim.world import WorldModel
    from tests.video_helpers import tiny_pipeline

    tiny_pipeline().save_pretrained(tmp_path / "video")
    out, rrd = tmp_path / "gen" / "left.mp4", tmp_path / "gen" / "left.rrd"
    result = run("generate", "--image", IMAGE, "--instruction", "turn left at the intersection", "--samples", "3",
                 "--frames", "5", "--steps", "1", "--video-model", str(tmp_path / "video"), "--device", "cpu",
                 "--out", str(out), "--rerun", str(rrd))
    assert result.exit_code == 0, result.output
    chosen = json.loads(out.with_suffix(".json").read_text())["chosen"]
    samples = WorldModel.from_pretrained(None, None, device="cpu", runtime="torch").predict(
        load_image(Path(IMAGE)), "turn left at the intersection", num_samples=3, seed=0).trajectories
    rec = Recording(rrd)
    assert len(iio.imread(out)) == 5
    assert rec.rows_with("/world/camera/image", "Blob") == list(range(5))
    path = samples[chosen].relative_to_first()
    expected_us = np.linspace(path.timestamps_us[0], path.timestamps_us[-1], 5).round().astype(np.int64)
    assert rec.times_us("/world/camera/image", "Blob") == expected_us.tolist()
    strips = rec.values("/world/paths/samples", "LineStrip3D")
    assert len(strips) == 1 and len(strips[0]) == 3  # the K samples, once, at the input frame
    for strip, sample in zip(strips[0], samples, strict=True):
        np.testing.assert_allclose(strip, sample.relative_to_first().positions, atol=1e-4)
    np.testing.assert_allclose(rec.values("/world/camera", "Translation3D")[-1], path.positions[-1], atol=1e-4)
    assert rec.values("/metrics/distance_m", "Scalar")[-1] == pytest.approx(np.linalg.norm(path.positions[-1]), abs=1e-4)
    h, w = iio.imread(out)[0].shape[:2]
    np.testing.assert_allclose(pinhole_K(rec.values("/world/camera/image", "PinholeProjection")[0]),
                               path.with_image_size(w, h).K, rtol=1e-6)


def test_without_rerun_sdk_the_option_names_the_extra_and_nothing_is_written(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rerun", None)  # `import rerun` now raises ImportError
    out = tmp_path / "drive"
    result = run("sim", "run", "--policy", "expert", "--seconds", "1", "--out", str(out), "--rerun", str(tmp_path / "x.rrd"))
    assert result.exit_code == 2 and "pip install 'ct1-sim[rerun]'" in result.output, result.output
    assert not any(tmp_path.iterdir())
    result = run("generate", "--image", IMAGE, "--instruction", "go", "--out", str(tmp_path / "x.mp4"), "--rerun",
                 str(tmp_path / "x.rrd"))
    assert result.exit_code == 2 and "ct1-sim[rerun]" in result.output and not any(tmp_path.iterdir())
    monkeypatch.undo()
    result = run("replay", "--clips", str(tmp_path / "none.zarr"), "--out", str(tmp_path / "o"), "--rerun", str(tmp_path / "x.mp4"))
    assert result.exit_code == 2 and "--rerun must name a .rrd file" in result.output and not any(tmp_path.iterdir())
