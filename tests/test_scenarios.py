"""Procedural scenarios: determinism, geometric truth of pixels and depth, labels, Ray == single process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.clip_spec import ClipSpec
from ct1_sim.data import ClipStore
from ct1_sim.data.scenarios.ego_motion import camera_c2w
from ct1_sim.data.scenarios.generate import clip_seed, make_clip
from ct1_sim.data.scenarios.mesh import MARKER, MeshBuilder
from ct1_sim.data.scenarios.parallel import render_store
from ct1_sim.data.scenarios.renderer import Lighting, SceneRenderer
from ct1_sim.data.scenarios.spec import load_spec
from ct1_sim.geometry.projection import project_points
from ct1_sim.metrics import classify_maneuver

REPO = Path(__file__).resolve().parents[1]
SPEC = ClipSpec()


@pytest.fixture(scope="module")
def renderer() -> SceneRenderer:
    return SceneRenderer(SPEC.width, SPEC.height)


def test_same_seed_same_pixels_and_splits_differ(renderer: SceneRenderer) -> None:
    a = make_clip(renderer, "t", "intersection", {}, "train", 3)
    b = make_clip(renderer, "t", "intersection", {}, "train", 3)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.depth, b.depth)
    assert a.trajectory.allclose(b.trajectory, atol=0) and a.instruction == b.instruction
    c = make_clip(renderer, "t", "intersection", {}, "test", 3)
    assert not np.array_equal(a.frames[0], c.frames[0])
    seeds = {s: {clip_seed("t", "intersection", s, i) for i in range(500)} for s in ("train", "val", "test")}
    assert not (seeds["train"] & seeds["val"]) and not (seeds["train"] & seeds["test"]) and not (seeds["val"] & seeds["test"])


def test_marker_appears_where_pose_and_K_put_it(renderer: SceneRenderer) -> None:
    mesh = MeshBuilder()
    point = np.array([12.0, 1.3, 2.1])  # world, z up
    s = 0.05
    mesh.box((point[0], point[1], point[2] - s), (2 * s, 2 * s, 2 * s), 0.0, (1.0, 0.0, 0.0), MARKER)
    renderer.set_world(mesh.array())
    c2w = camera_c2w(0.5, -0.4, np.radians(8.0), SPEC.camera_height_m)
    rgb, depth = renderer.render(c2w, SPEC.K, Lighting())
    red = np.argwhere((rgb[..., 0] > 200) & (rgb[..., 1] < 40) & (rgb[..., 2] < 40))
    assert len(red) > 0
    uv, z = project_points(point[None], c2w, SPEC.K)
    centre = red.mean(axis=0)[::-1] + 0.5  # pixel centres, (u, v)
    assert np.abs(centre - uv[0]).max() < 0.75
    assert abs(float(depth[red[:, 0], red[:, 1]].mean()) - z[0]) < 0.1


def test_depth_equals_ray_ground_intersection_on_road(renderer: SceneRenderer) -> None:
    clip = make_clip(renderer, "t", "curve", {}, "train", 1)
    depth = clip.depth[0].astype(np.float64)
    c2w = clip.trajectory.c2w[0]
    K = clip.trajectory.K
    rows = np.arange(200, 256, 7)
    cols = np.arange(150, 300, 13)
    vv, uu = np.meshgrid(rows, cols, indexing="ij")
    d_cam = np.stack([(uu + 0.5 - K[0, 2]) / K[0, 0], (vv + 0.5 - K[1, 2]) / K[1, 1], np.ones_like(uu, dtype=float)], -1)
    d_world = d_cam @ c2w[:3, :3].T
    t = -c2w[2, 3] / d_world[..., 2]  # ray hits z = 0 (the road surface)
    expected_z = t  # d_cam has z = 1, so the ray parameter is the depth along the optical axis
    got = depth[vv, uu]
    road = np.abs(got - expected_z) < 0.05 * expected_z  # markings sit 1 cm above the road
    assert road.mean() > 0.9, f"only {road.mean():.0%} of near-road pixels match"
    np.testing.assert_allclose(got[road], expected_z[road], rtol=0.01)


@pytest.mark.parametrize(("family", "params", "label"), [
    ("intersection", {"maneuver": "turn_left", "kind": "4way"}, "turn_left"),
    ("intersection", {"maneuver": "turn_right", "kind": "T"}, "turn_right"),
    ("intersection", {"maneuver": "straight", "kind": "4way"}, "straight"),
    ("lane_change", {}, None),
    ("stop", {"reason": "vehicle"}, "stop"),
])
def test_scripted_maneuvers_read_back_from_the_path(renderer: SceneRenderer, family: str, params: dict, label: str | None) -> None:
    clip = make_clip(renderer, "t", family, params, "val", 7)
    assert clip.meta["maneuver"] == classify_maneuver(clip.trajectory)
    assert clip.meta["maneuver"] == (label or clip.meta["scripted"])
    assert clip.frames.shape == (16, 256, 448, 3) and clip.depth.dtype == np.float16
    assert clip.meta["split"] == "val" and clip.meta["speed_mps"] > 0
    np.testing.assert_array_equal(np.diff(clip.trajectory.timestamps_us), 200_000)


def test_ray_and_single_process_write_identical_stores_and_resume(tmp_path: Path) -> None:
    specs = [load_spec(REPO / "scenarios" / "suburban.yaml"), load_spec(REPO / "scenarios" / "highway.yaml")]
    single = render_store(specs, 3, tmp_path / "single.zarr", progress=False)
    ray_store = render_store(specs, 3, tmp_path / "ray.zarr", workers=2, progress=False)
    assert single.ids() == ray_store.ids() and len(single) == 6
    for clip_id in single.ids():
        a, b = single[clip_id], ray_store[clip_id]
        np.testing.assert_array_equal(a.frames, b.frames)
        assert a.trajectory.allclose(b.trajectory, atol=0) and a.meta == b.meta
    more = render_store(specs, 4, tmp_path / "single.zarr", progress=False)  # resumes: renders only 2 more
    assert len(more) == 8


def test_cli_render_preview_and_bad_spec(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["scenarios", "preview", str(REPO / "scenarios" / "urban.yaml"), "--out", str(tmp_path / "s.png"), "--clips", "2"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "s.png").stat().st_size > 10_000
    sheet = Image.open(tmp_path / "s.png")
    assert sheet.format == "PNG" and sheet.size == (3 * 448, 2 * 256)  # first / middle / last frame of 2 clips
    res = runner.invoke(app, ["scenarios", "preview", str(REPO / "scenarios" / "urban.yaml"), "--out", str(tmp_path / "s.jpg"), "--clips", "1"])
    assert res.exit_code == 0 and Image.open(tmp_path / "s.jpg").format == "JPEG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jpg", "s.png"]  # no temp file left beside them
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfamilies: {teleport: {}}\n")
    res = runner.invoke(app, ["scenarios", "render", str(bad), "--clips", "1", "--out", str(tmp_path / "o.zarr")])
    assert res.exit_code == 2 and "unknown family 'teleport'" in res.output


def test_nuscenes_export_loads_with_the_devkit_and_matches_clip_poses(tmp_path: Path, renderer: SceneRenderer) -> None:
    from nuscenes.nuscenes import NuScenes
    from pyquaternion import Quaternion

    from ct1_sim.data.scenarios.nuscenes_export import VERSION, export_nuscenes

    spec = load_spec(REPO / "scenarios" / "suburban.yaml")
    export_nuscenes([spec], 2, tmp_path / "nus")
    nusc = NuScenes(VERSION, str(tmp_path / "nus"), verbose=False)
    assert len(nusc.scene) == 2 and len(nusc.sample) == 14 and len(nusc.sample_data) == 74  # 7 keyframes, 37 frames at 12 Hz

    def camera_to_global(sd: dict) -> np.ndarray:
        ep = nusc.get("ego_pose", sd["ego_pose_token"])
        cs = nusc.get("calibrated_sensor", sd["calibrated_sensor_token"])
        g_e, e_c = np.eye(4), np.eye(4)
        g_e[:3, :3], g_e[:3, 3] = Quaternion(ep["rotation"]).rotation_matrix, ep["translation"]
        e_c[:3, :3], e_c[:3, 3] = Quaternion(cs["rotation"]).rotation_matrix, cs["translation"]
        return g_e @ e_c

    family, split = spec.assign(0)
    clip = make_clip(renderer, spec.name, family, spec.params(family), split, 0)
    sample = nusc.get("sample", nusc.scene[0]["first_sample_token"])
    for clip_index in (0, 5, 10, 15):  # keyframes at 0, 1, 2, 3 s
        sd = nusc.get("sample_data", sample["data"]["CAM_FRONT"])
        np.testing.assert_allclose(camera_to_global(sd), clip.trajectory.c2w[clip_index], atol=1e-6)
        assert (tmp_path / "nus" / sd["filename"]).is_file()
        for _ in range(2):
            sample = nusc.get("sample", sample["next"]) if sample["next"] else sample
    # the curation pipeline reads the export: one window per scene (keyframe 0; later ones run past the 3 s scene)
    from ct1_sim.data.nuscenes import curate_nuscenes

    curated, counts = curate_nuscenes(tmp_path / "nus", VERSION, tmp_path / "curated.zarr")
    assert len(curated) == 2 and counts["past_scene_end"] == 12
    first = curated[f"{nusc.scene[0]['name']}-k000"]
    assert first.meta["maneuver"] == clip.meta["maneuver"]
    # 5 Hz poses interpolated from the 12 Hz frames stay within 2 cm / 0.01 of the directly sampled ones
    np.testing.assert_allclose(first.trajectory.c2w, clip.trajectory.c2w, atol=0.02)


def test_resuming_into_a_store_rendered_with_other_settings_is_refused_naming_them(tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text("name: tiny\nfamilies: {speed_change: {}}\nclip: {num_poses: 3, width: 64, height: 48}\n")
    out = str(tmp_path / "s.zarr")
    render = ["scenarios", "render", str(spec), "--out", out]
    runner = CliRunner()
    assert runner.invoke(app, [*render, "--clips", "1"]).exit_code == 0
    again = runner.invoke(app, [*render, "--clips", "2"])  # the same settings, more clips: a resume
    assert again.exit_code == 0 and "s.zarr: 2 clips" in again.output
    other_seed = runner.invoke(app, [*render, "--clips", "3", "--seed", "1"])
    assert other_seed.exit_code == 2, other_seed.output
    assert "holds clips of scenario-tiny made with other settings (seed: 0 -> 1)" in other_seed.output
    assert "render with the same spec file and --seed (more --clips are fine), or write to a new store" in other_seed.output
    spec.write_text("name: tiny\nfamilies: {speed_change: {}}\nclip: {num_poses: 3, width: 80, height: 48}\n")
    other_clip = runner.invoke(app, [*render, "--clips", "3"])
    assert other_clip.exit_code == 2 and "(spec.clip.width: 64 -> 80)" in other_clip.output
    assert len(ClipStore.open(out)) == 2  # nothing rendered with the other settings
    other_spec = tmp_path / "other.yaml"  # another spec into the same store is not a resume: it is recorded alongside
    other_spec.write_text("name: other\nfamilies: {speed_change: {}}\nclip: {num_poses: 3, width: 64, height: 48}\n")
    assert runner.invoke(app, ["scenarios", "render", str(other_spec), "--out", out, "--clips", "1", "--seed", "1"]).exit_code == 0
