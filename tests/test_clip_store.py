"""ClipStore: round trip, concurrent writers, and a writer killed mid-clip."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ct1_sim.data import Clip, ClipExistsError, ClipStore
from tests.conftest import make_trajectory, random_poses
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[1]


def make_clip(clip_id: str, seed: int = 0, t: int = 4, size: tuple[int, int] = (32, 24), depth: bool = True) -> Clip:
    rng = np.random.default_rng(seed)
    w, h = size
    return Clip(
        id=clip_id,
        frames=rng.integers(0, 256, size=(t, h, w, 3), dtype=np.uint8),
        trajectory=make_trajectory(random_poses(rng, t), size=size),
        instruction=f"turn left at the intersection ({clip_id})",
        meta={"source": "test", "scene": f"scene-{seed}", "maneuver": "turn_left", "split": "train", "speed_mps": 7.5},
        depth=rng.uniform(1, 80, size=(t, h, w)).astype(np.float16) if depth else None,
    )


def test_append_and_read_back(tmp_path: Path) -> None:
    store = ClipStore.create(tmp_path / "s.zarr")
    clips = [make_clip(f"c{i}", seed=i, depth=i % 2 == 0) for i in range(3)]
    for clip in clips:
        assert store.append(clip)
    reopened = ClipStore.open(tmp_path / "s.zarr")
    assert len(reopened) == 3 and reopened.ids() == ["c0", "c1", "c2"]
    for clip, back in zip(clips, reopened, strict=True):
        assert back.id == clip.id and back.instruction == clip.instruction and back.meta == clip.meta
        np.testing.assert_array_equal(back.frames, clip.frames)
        assert back.trajectory.allclose(clip.trajectory, atol=0)
        if clip.depth is None:
            assert back.depth is None
        else:
            assert back.depth.dtype == np.float16
            np.testing.assert_array_equal(back.depth, clip.depth)
    np.testing.assert_array_equal(reopened.read_frames("c1", [2]), clips[1].frames[2:3])
    assert reopened.meta("c2")["maneuver"] == "turn_left"


def test_frames_are_chunked_per_frame_and_compressed(tmp_path: Path) -> None:
    import zarr

    store = ClipStore.create(tmp_path / "s.zarr")
    clip = make_clip("c0")
    clip.frames[:] = 7  # compressible
    store.append(clip)
    arr = zarr.open_group(str(tmp_path / "s.zarr" / "clips" / "c0"), mode="r")["frames"]
    assert arr.chunks == (1, 24, 32, 3)
    assert arr.compressors
    on_disk = sum(p.stat().st_size for p in (tmp_path / "s.zarr" / "clips" / "c0" / "frames").rglob("*") if p.is_file())
    assert on_disk < clip.frames.nbytes / 4


def test_a_damaged_chunk_is_an_error_naming_the_store_and_clip(tmp_path: Path) -> None:
    store = ClipStore.create(tmp_path / "s.zarr")
    store.append(make_clip("c0"))
    chunks = sorted(p for p in (tmp_path / "s.zarr" / "clips" / "c0" / "frames").rglob("*")
                    if p.is_file() and p.name != "zarr.json")
    chunks[1].write_bytes(chunks[1].read_bytes()[:5])  # a truncated file, as a killed copy leaves
    with pytest.raises(ValueError, match=r"s.zarr: clip 'c0' has a damaged 'frames' array .*re-render"):
        store.read_frames("c0", [1])
    with pytest.raises(ValueError, match="clip 'c0' has a damaged 'frames' array"):
        store["c0"]
    assert store.read_frames("c0", [0]).shape == (1, 24, 32, 3)  # the intact frames still read


def test_duplicate_ids_and_bad_input(tmp_path: Path) -> None:
    store = ClipStore.create(tmp_path / "s.zarr")
    store.append(make_clip("same"))
    with pytest.raises(ClipExistsError, match="already exists"):
        store.append(make_clip("same", seed=1))
    assert store.append(make_clip("same", seed=1), skip_existing=True) is False
    np.testing.assert_array_equal(store["same"].frames, make_clip("same").frames)  # first one kept
    with pytest.raises(KeyError, match="no clip"):
        store["missing"]
    with pytest.raises(ValueError, match="clip id"):
        make_clip("../escape")
    with pytest.raises(FileNotFoundError, match="not a clip store"):
        ClipStore.open(tmp_path / "nowhere.zarr")
    with pytest.raises(FileExistsError):
        ClipStore.create(tmp_path / "s.zarr")
    assert len(ClipStore.create(tmp_path / "s.zarr", exist_ok=True)) == 1


def test_clip_validation_names_the_problem() -> None:
    good = make_clip("ok")
    with pytest.raises(ValueError, match="uint8"):
        Clip(id="x", frames=good.frames.astype(np.float32), trajectory=good.trajectory, instruction="go", meta=good.meta)
    with pytest.raises(ValueError, match="missing"):
        Clip(id="x", frames=good.frames, trajectory=good.trajectory, instruction="go", meta={"source": "t"})
    with pytest.raises(ValueError, match="image_size"):
        Clip(id="x", frames=good.frames[:, :, :16], trajectory=good.trajectory, instruction="go", meta=good.meta)


WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    from tests.test_clip_store import make_clip
    from ct1_sim.data import ClipStore
    store = ClipStore.open({store!r})
    for i in range({start}, {stop}):
        store.append(make_clip(f"c{{i:03d}}", seed=i, t=6, size=(64, 48)))
    """
)


def test_two_processes_append_concurrently(tmp_path: Path) -> None:
    path = str(tmp_path / "s.zarr")
    ClipStore.create(path)
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER.format(repo=str(REPO), store=path, start=a, stop=b)])
        for a, b in ((0, 12), (12, 24))
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    store = ClipStore.open(path)
    assert store.ids() == [f"c{i:03d}" for i in range(24)]
    for i in (0, 13, 23):
        np.testing.assert_array_equal(store[f"c{i:03d}"].frames, make_clip("x", seed=i, t=6, size=(64, 48)).frames)


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {repo!r})
    from pathlib import Path
    from tests.test_clip_store import make_clip
    from ct1_sim.data import ClipStore, clip_store
    original = ClipStore._write_group
    def write_then_hang(path, clip):
        original(path, clip)             # the clip's data is on disk, in staging
        Path({ready!r}).write_text("x")  # tell the test, then wait to be killed before the rename
        time.sleep(600)
    ClipStore._write_group = staticmethod(write_then_hang)
    ClipStore.open({store!r}).append(make_clip("half", seed=9))
    """
)


def test_writer_killed_mid_clip_leaves_no_visible_clip(tmp_path: Path) -> None:
    path = str(tmp_path / "s.zarr")
    store = ClipStore.create(path)
    store.append(make_clip("done"))
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER.format(repo=str(REPO), store=path, ready=str(ready))])
    wait_for(lambda: ready.exists() or proc.poll() is not None, 60, "the writer to reach the middle of its clip")
    assert proc.poll() is None, "writer exited early"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    reopened = ClipStore.open(path)
    assert reopened.ids() == ["done"] and "half" not in reopened
    np.testing.assert_array_equal(reopened["done"].frames, make_clip("done").frames)
    assert reopened.clean_staging() == 1
    assert reopened.append(make_clip("half", seed=9))  # the id is free: a resumed writer can redo it
    assert reopened.ids() == ["done", "half"]


def test_importing_the_store_leaves_the_warning_filters_alone() -> None:
    script = ("import warnings, ct1_sim.data.clip_store; message = 'Object at x is not recognized as a component'; "
              "assert not [f for f in warnings.filters if f[1] and f[1].match(message)], warnings.filters[0]")
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=120)


def test_writers_settings_are_recorded_and_a_resume_with_other_ones_refused(tmp_path: Path) -> None:
    store = ClipStore.create(tmp_path / "s.zarr")
    store.claim("scenario-a", {"seed": 0, "spec": {"width": 448}}, has_clips=False)
    store.claim("scenario-a", {"seed": 0, "spec": {"width": 448}}, has_clips=True)  # the same settings: a resume
    store.claim("scenario-a", {"seed": 1, "spec": {"width": 448}}, has_clips=False)  # no clips yet: replaced
    assert store.writer_settings("scenario-a") == {"seed": 1, "spec": {"width": 448}}
    with pytest.raises(ValueError, match=r"s.zarr holds clips of scenario-a made with other settings "
                                         r"\(seed: 1 -> 2; spec.width: 448 -> 320\); use seed 1, or write to a new store"):
        store.claim("scenario-a", {"seed": 2, "spec": {"width": 320}}, has_clips=True, fix="use seed 1")
    assert store.writer_settings("scenario-a")["seed"] == 1 and store.writer_settings("scenario-b") is None
    assert len(store) == 0 and os.listdir(tmp_path / "s.zarr" / "staging") == ["zarr.json"]  # nothing left behind
    with pytest.raises(ValueError, match="writer name"):
        store.claim("../x", {}, has_clips=False)
