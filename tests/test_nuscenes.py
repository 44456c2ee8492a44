"""nuScenes reader and curation on a fixture the test writes, loaded through the real devkit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pyquaternion import Quaternion
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.data import ClipStore
from ct1_sim.data.nuscenes import NuScenesReader, curate_nuscenes
from tests.nuscenes_fixture import CAM_ROTATION, CAM_TRANSLATION, VERSION, write_fixture


@pytest.fixture(scope="module")
def dataroot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("nus")
    return root, write_fixture(root)


def test_camera_path_matches_independent_computation(dataroot: tuple[Path, dict]) -> None:
    root, truth = dataroot
    reader = NuScenesReader(root, VERSION)
    cam = reader.camera("scene-0001")
    t = truth["scene-0001"]
    assert len(cam.trajectory) == len(t["t"]) and cam.is_key_frame.sum() == t["key"].sum()
    np.testing.assert_array_equal(cam.trajectory.timestamps_us, t["stamps"])
    ego_from_cam = np.eye(4)
    ego_from_cam[:3, :3] = CAM_ROTATION.rotation_matrix
    ego_from_cam[:3, 3] = CAM_TRANSLATION
    for i in (0, 7, 50, len(t["t"]) - 1):
        global_from_ego = np.eye(4)
        global_from_ego[:3, :3] = Quaternion(axis=[0, 0, 1], radians=t["yaw"][i]).rotation_matrix
        global_from_ego[:3, 3] = t["xyz"][i]
        np.testing.assert_allclose(cam.trajectory.c2w[i], global_from_ego @ ego_from_cam, atol=1e-9)
    # the camera looks along the ego's heading (OpenCV z forward)
    forward = cam.trajectory.c2w[0][:3, 2]
    assert np.degrees(np.arccos(forward @ [np.cos(0.3), np.sin(0.3), 0.0])) < 2.0


def test_clear_errors(tmp_path: Path, dataroot: tuple[Path, dict]) -> None:
    root, _ = dataroot
    with pytest.raises(FileNotFoundError, match="does not exist"):
        NuScenesReader(tmp_path / "nowhere", VERSION)
    with pytest.raises(FileNotFoundError, match="versions found there"):
        NuScenesReader(root, "v1.0-mini")
    broken = tmp_path / "broken"
    write_fixture(broken)
    (broken / VERSION / "ego_pose.json").unlink()
    with pytest.raises(FileNotFoundError, match="missing tables"):
        NuScenesReader(broken, VERSION)
    holes = tmp_path / "holes"
    write_fixture(holes)
    next((holes / "sweeps" / "CAM_FRONT").glob("scene-0001*")).unlink()
    with pytest.raises(FileNotFoundError, match="images are missing"):
        NuScenesReader(holes, VERSION).camera("scene-0001")
    with pytest.raises(KeyError, match="no scene"):
        NuScenesReader(root, VERSION).scene("scene-9999")


def test_curation_labels_filters_and_counts(tmp_path: Path, dataroot: tuple[Path, dict]) -> None:
    root, _ = dataroot
    store, counts = curate_nuscenes(root, VERSION, tmp_path / "c.zarr", report=tmp_path / "report")
    left = [store.meta(i) for i in store.ids() if i.startswith("scene-0001")]
    straight = [store.meta(i) for i in store.ids() if i.startswith("scene-0002")]
    assert len(left) == 15  # keyframes at 0..7 s have a full 3 s future inside the 10 s scene
    assert all(m["maneuver"] == "turn_left" for m in left)  # 54 deg in 3 s at 18 deg/s
    assert all("left" in m["instruction"] for m in left)
    # the 0.9 s hole spoils the windows starting at 0-2 s (the 2.5 s keyframe is gone), the 6 m jump at 8.5 s those at 5.5-7 s
    assert counts["timestamp_gap"] == 5 and counts["pose_jump"] == 4 and counts["tag_rain"] == 1
    assert all(m["maneuver"] == "straight" for m in straight) and len(straight) == 5
    clip = store[store.ids()[0]]
    assert clip.frames.shape == (16, 90, 160, 3)
    np.testing.assert_array_equal(np.diff(clip.trajectory.timestamps_us), 200_000)
    assert abs(left[0]["speed_mps"] - 6.0) < 0.1 and abs(straight[0]["speed_mps"] - 8.0) < 0.1
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| timestamp_gap |" in report and (tmp_path / "report" / "speeds.png").is_file()
    # resuming writes nothing new and the store is unchanged
    again, _ = curate_nuscenes(root, VERSION, tmp_path / "c.zarr")
    assert again.ids() == store.ids()


def test_whole_scenes_and_ray_equal_single(tmp_path: Path, dataroot: tuple[Path, dict]) -> None:
    root, truth = dataroot
    whole, _ = curate_nuscenes(root, VERSION, tmp_path / "w.zarr", whole_scenes=True, scenes=["scene-0001"])
    clip = whole["scene-0001-whole"]
    assert len(clip.trajectory) == len(truth["scene-0001"]["t"])
    single, _ = curate_nuscenes(root, VERSION, tmp_path / "s.zarr")
    ray_store, _ = curate_nuscenes(root, VERSION, tmp_path / "r.zarr", workers=2)
    assert single.ids() == ray_store.ids()
    for cid in single.ids():
        a, b = single[cid], ray_store[cid]
        assert a.meta == b.meta and a.instruction == b.instruction and a.trajectory.allclose(b.trajectory, atol=0)
        np.testing.assert_array_equal(a.frames, b.frames)


def test_a_whole_scene_is_labelled_by_the_whole_drive(tmp_path: Path) -> None:
    """A 20 s scene turning left by 90 deg at 4.5 deg/s is a left turn as a drive, though each of its 3 s windows
    (13.5 deg) is straight; the per-window labels are kept in the whole-scene clip's meta, equal to the windowed
    curation's."""
    root = tmp_path / "nus"
    write_fixture(root, gap=False, jump=False, kinds=("gentle_left", "straight"))
    whole, _ = curate_nuscenes(root, VERSION, tmp_path / "w.zarr", whole_scenes=True)
    gentle, straight = whole.meta("scene-0001-whole"), whole.meta("scene-0002-whole")
    assert gentle["maneuver"] == "turn_left" and straight["maneuver"] == "straight"
    windows = gentle["window_maneuvers"]
    assert len(windows) == 35  # keyframes at 0..17 s have a full 3 s future inside the 20 s scene
    assert set(windows.values()) == {"straight"} and set(straight["window_maneuvers"].values()) == {"straight"}
    windowed, _ = curate_nuscenes(root, VERSION, tmp_path / "c.zarr", scenes=["scene-0001"])
    assert windows == {cid.rsplit("-", 1)[1]: windowed.meta(cid)["maneuver"] for cid in windowed.ids()}


def test_cli_and_scenario_export_round_trip(tmp_path: Path, dataroot: tuple[Path, dict]) -> None:
    root, _ = dataroot
    res = CliRunner().invoke(app, ["curate", "nuscenes", "--dataroot", str(root), "--version", VERSION, "--out", str(tmp_path / "c.zarr"),
                                   "--scenes", "scene-0001", "--size", "80x45"])
    assert res.exit_code == 0, res.output
    store = ClipStore.open(tmp_path / "c.zarr")
    assert store[store.ids()[0]].frames.shape == (16, 45, 80, 3)
    bad = CliRunner().invoke(app, ["curate", "nuscenes", "--dataroot", str(root), "--version", "v9", "--out", str(tmp_path / "x.zarr")])
    assert bad.exit_code == 2 and "no version 'v9'" in bad.output
    json.loads((root / VERSION / "scene.json").read_text())  # the fixture is untouched


def test_resuming_a_curation_with_other_settings_is_refused_naming_them(tmp_path: Path, dataroot: tuple[Path, dict]) -> None:
    root, _ = dataroot
    out = tmp_path / "c.zarr"
    curate_nuscenes(root, VERSION, out, scenes=["scene-0002"], size=(80, 45))
    store, _ = curate_nuscenes(root, VERSION, out, size=(80, 45))  # the same settings, more scenes: a resume
    clips = store.ids()
    assert any(c.startswith("scene-0001-") for c in clips)
    with pytest.raises(ValueError, match=r"holds clips of nuscenes-v1.0-fixture made with other settings \(size: "
                                         r"\[80, 45\] -> None\); curate with the same --whole-scenes, --size"):
        curate_nuscenes(root, VERSION, out)
    result = CliRunner().invoke(app, ["curate", "nuscenes", "--dataroot", str(root), "--version", VERSION, "--out", str(out),
                                      "--whole-scenes", "--size", "80x45"])
    assert result.exit_code == 2 and "(whole_scene: False -> True)" in result.output
    assert ClipStore.open(out).ids() == clips  # nothing curated with the other settings
