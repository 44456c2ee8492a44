"""Training clips cut from expert drives through the towns: 3-s windows with the frames, camera path and instruction
of the drive at that moment, none of them with a steering pulse in it; resumable writing into a clip store."""

from __future__ import annotations

import numpy as np
import pytest

from ct1_sim.clip_spec import CLIP_SPEC
from ct1_sim.data import ClipStore
from ct1_sim.data.scenarios.ego_motion import camera_c2w
from ct1_sim.sim.town_clips import FRAME_EVERY, clips_from_drive, drive_town, render_town_clips


@pytest.fixture(scope="module")
def drive():
    return drive_town(0, 0, "train", seconds=16.0)


def test_each_clip_is_a_clean_window_of_the_drive(drive) -> None:
    steps, frames, about = drive
    clips = list(clips_from_drive(steps, frames, about, "train", 0, 0))
    assert len(clips) >= 4
    pulses = [k for k, s in enumerate(steps) if s.pulse]
    assert pulses, "a 16-s drive has at least one steering pulse (every 4-9 s)"
    span = (CLIP_SPEC.num_poses - 1) * FRAME_EVERY
    for clip in clips:
        assert clip.frames.shape == (CLIP_SPEC.num_poses, CLIP_SPEC.height, CLIP_SPEC.width, 3)
        assert clip.depth.shape == clip.frames.shape[:3]
        k0 = round(clip.meta["t_s"] / 0.1)
        assert not any(k0 <= k <= k0 + span for k in pulses)
        # the camera path is the drive's, frame 0 is the frame rendered at the window's first step
        want = camera_c2w(*steps[k0].state[:3], CLIP_SPEC.camera_height_m, pitch_deg=CLIP_SPEC.camera_pitch_deg)
        assert np.allclose(clip.trajectory.c2w[0], want)
        assert np.array_equal(clip.frames[0], frames[k0][0])
        assert clip.instruction == steps[k0].instruction
        assert clip.meta["maneuver"] == clip.meta["intent"][0]
        assert clip.meta["speed_mps"] == pytest.approx(steps[k0].state[3], abs=1e-4)


def test_town_clips_are_written_once(tmp_path) -> None:
    store_path = tmp_path / "town.zarr"
    written = render_town_clips(str(store_path), "train", range(1), drives=1, seconds=8.0)
    store = ClipStore.open(store_path)
    assert written == len(store) >= 2
    assert all(store.meta(i)["split"] == "train" and store.meta(i)["source"] == "town" for i in store.ids())
    assert render_town_clips(str(store_path), "train", range(1), drives=1, seconds=8.0) == 0  # resumed: nothing new


def test_policy_drives_get_the_experts_window_from_where_the_policy_is() -> None:
    from ct1_sim.paths import TRAJECTORY_MODEL, default_model_dir
    from ct1_sim.sim.policy_labels import LABEL_EVERY_S, policy_drive_clips

    clips = list(policy_drive_clips(default_model_dir(TRAJECTORY_MODEL), 0, 0, "train", seconds=2.0))
    assert len(clips) == 3  # at 0, 0.8 and 1.6 s of a 2-s drive
    for k, clip in enumerate(clips):
        assert clip.meta["source"] == "town-dagger" and clip.meta["t_s"] == pytest.approx(k * LABEL_EVERY_S)
        assert clip.frames.shape == (CLIP_SPEC.num_poses, CLIP_SPEC.height, CLIP_SPEC.width, 3)
        rel = clip.trajectory.relative_to_first().positions
        assert rel[-1, 2] > 10.0  # the expert drives on from there (camera z forward, m)
    # the windows start where the policy drove, not on the expert's line: frames 0 differ from one another
    assert not np.array_equal(clips[0].frames[0], clips[1].frames[0])
