"""``ct1-sim export mcap``: a drive as a ROS 2 MCAP file, read back by independent readers (``mcap`` + the
``mcap_ros2`` decoder, and ``rosbags`` with its own ROS 2 Jazzy types) and compared with the source."""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from scipy.spatial.transform import Rotation
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.data import Clip, ClipStore
from tests.conftest import make_trajectory

SIZE = (40, 24)  # W, H
T0_US = 1_700_000_000_000_000  # an epoch time: stamps must keep every digit
INSTRUCTION = "turn left at the intersection"


def smooth_frames(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n,H,W,3)`` uint8 frames of smooth gradients (so JPEG's error is small and meaningful)."""
    w, h = SIZE
    yy, xx = np.mgrid[0:h, 0:w]
    frames = []
    for _ in range(n):
        a, b, c = rng.uniform(0.5, 4.0, 3)
        rgb = np.stack([128 + 100 * np.sin(xx / w * a + c), 128 + 100 * np.cos(yy / h * b), (xx + yy) * 2.0], axis=-1)
        frames.append(np.clip(rgb, 0, 255).astype(np.uint8))
    return np.stack(frames)


def drive_poses(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` camera-to-world poses (OpenCV) of a camera moving forward and turning a little."""
    c2w = np.tile(np.eye(4), (n, 1, 1))
    c2w[:, :3, :3] = Rotation.from_euler("yxz", np.cumsum(rng.normal(0, 0.05, (n, 3)), axis=0)).as_matrix()
    c2w[:, :3, 3] = np.cumsum(rng.normal([0.1, 0.0, 1.5], 0.2, (n, 3)), axis=0) + [100.0, -3.0, 50.0]
    return c2w


def make_clip(rng: np.random.Generator, clip_id: str = "clip-a", n: int = 6) -> Clip:
    traj = make_trajectory(drive_poses(rng, n), rate_hz=5.0, size=SIZE)
    traj = traj.replace(timestamps_us=traj.timestamps_us + T0_US)
    return Clip(id=clip_id, frames=smooth_frames(rng, n), trajectory=traj, instruction=INSTRUCTION,
                meta={"source": "test", "scene": "s", "maneuver": "left", "split": "test"})


@pytest.fixture
def store(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, Clip]:
    clip = make_clip(rng)
    path = tmp_path / "clips.zarr"
    ClipStore.create(path).append(clip)
    return path, clip


def export(*args: str) -> Any:
    return CliRunner().invoke(app, ["export", "mcap", *args])


def read_mcap(path: Path) -> dict[str, list[tuple[int, str, Any]]]:
    """Per topic: (log time ns, schema name, decoded message) in file order, by mcap's reader and the ROS 2 decoder."""
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    out: dict[str, list[tuple[int, str, Any]]] = defaultdict(list)
    with open(path, "rb") as f:
        for schema, channel, message, decoded in make_reader(f, decoder_factories=[DecoderFactory()]).iter_decoded_messages(log_time_order=True):
            out[channel.topic].append((message.log_time, schema.name, decoded))
    return out


def stamp_ns(h: Any) -> int:
    return h.stamp.sec * 1_000_000_000 + h.stamp.nanosec


def pose_matrix(position: Any, orientation: Any) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = Rotation.from_quat([orientation.x, orientation.y, orientation.z, orientation.w]).as_matrix()
    T[:3, 3] = [position.x, position.y, position.z]
    return T


def relative(c2w: np.ndarray) -> np.ndarray:
    return np.linalg.inv(c2w[0]) @ c2w


def static_camera(topics: dict[str, list[tuple[int, str, Any]]]) -> np.ndarray:
    """``base_link``-from-``ct1_camera_optical`` (4x4) composed from the ``/tf_static`` chain through ``ct1_camera_link``."""
    link, optical = topics["/tf_static"][0][2].transforms
    assert (link.child_frame_id, optical.header.frame_id) == ("ct1_camera_link", "ct1_camera_link")
    return (pose_matrix(link.transform.translation, link.transform.rotation)
            @ pose_matrix(optical.transform.translation, optical.transform.rotation))


def test_clip_store_exports_frames_poses_path_and_instruction_exactly(store: tuple[Path, Clip], tmp_path: Path) -> None:
    path, clip = store
    out = tmp_path / "clip.mcap"
    result = export(str(path), "--out", str(out))
    assert result.exit_code == 0, result.output
    topics = read_mcap(out)
    n = len(clip.frames)
    stamps = [int(t) * 1000 for t in clip.trajectory.timestamps_us]
    assert {t: len(m) for t, m in topics.items()} == {
        "/ct1/image/compressed": n, "/ct1/image/camera_info": n, "/tf": n, "/odom": n, "/tf_static": 1,
        "/ct1/instruction": 1, "/ct1/trajectories/true": 1}
    # images: exact PNG, stamped (header and log time) at the clip's own times
    images = topics["/ct1/image/compressed"]
    assert [t for t, _, _ in images] == stamps == [stamp_ns(m.header) for _, _, m in images]
    assert all(s == "sensor_msgs/msg/CompressedImage" and m.format == "png" for _, s, m in images)
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(bytes(m.data))).convert("RGB")) for _, _, m in images])
    np.testing.assert_array_equal(decoded, clip.frames)
    for _, _, info in topics["/ct1/image/camera_info"]:
        assert (info.width, info.height) == SIZE
        np.testing.assert_allclose(np.reshape(info.k, (3, 3)), clip.trajectory.K, atol=1e-9)
        assert info.header.frame_id == images[0][2].header.frame_id
    # ego: map -> base_link (odometry and /tf) composed with the static base_link -> camera gives the camera path
    link, optical = topics["/tf_static"][0][2].transforms
    assert [(t.header.frame_id, t.child_frame_id) for t in (link, optical)] == [
        ("base_link", "ct1_camera_link"), ("ct1_camera_link", images[0][2].header.frame_id)]
    np.testing.assert_allclose(pose_matrix(link.transform.translation, link.transform.rotation), np.eye(4), atol=1e-12)
    base_from_cam = static_camera(topics)
    odom = [m for _, _, m in topics["/odom"]]
    assert [stamp_ns(m.header) for m in odom] == stamps and all(m.header.frame_id == "map" for m in odom)
    cam = np.stack([pose_matrix(m.pose.pose.position, m.pose.pose.orientation) @ base_from_cam for m in odom])
    np.testing.assert_allclose(relative(cam), relative(clip.trajectory.c2w), atol=1e-6)
    tfs = [m.transforms[0] for _, _, m in topics["/tf"]]
    assert [(t.header.frame_id, t.child_frame_id) for t in tfs] == [("map", "base_link")] * n
    tf_cam = np.stack([pose_matrix(t.transform.translation, t.transform.rotation) @ base_from_cam for t in tfs])
    np.testing.assert_allclose(tf_cam, cam, atol=1e-9)
    assert np.linalg.norm(odom[2].twist.twist.linear.x) > 1.0  # moving forward (base x) at ~7.5 m/s
    # map is REP 103: the first camera looks along map x, with z up
    np.testing.assert_allclose(cam[0][:3, 2], [1, 0, 0], atol=1e-9)
    np.testing.assert_allclose(cam[0][:3, 1], [0, 0, -1], atol=1e-9)
    # the true future path, in base_link at the first stamp, its poses at their own times
    (log_time, _, true_path), = topics["/ct1/trajectories/true"]
    assert log_time == stamps[0] and true_path.header.frame_id == "base_link"
    assert [stamp_ns(p.header) for p in true_path.poses] == stamps
    path_cam = np.stack([pose_matrix(p.pose.position, p.pose.orientation) @ base_from_cam for p in true_path.poses])
    np.testing.assert_allclose(relative(path_cam), relative(clip.trajectory.c2w), atol=1e-6)
    # the instruction, when the clip starts
    assert [(t, m.data) for t, _, m in topics["/ct1/instruction"]] == [(stamps[0], INSTRUCTION)]


def test_rosbags_reads_every_message_with_its_own_ros2_types(store: tuple[Path, Clip], tmp_path: Path) -> None:
    """The schemas the file carries are ROS 2's: rosbags parses them and decodes every message with its own built-in
    Jazzy definitions (not the file's), giving the same fields."""
    from mcap.reader import make_reader
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    path, clip = store
    out = tmp_path / "clip.mcap"
    assert export(str(path), "--out", str(out)).exit_code == 0
    typestore = get_typestore(Stores.ROS2_JAZZY)
    seen: dict[str, int] = defaultdict(int)
    with open(out, "rb") as f:
        for schema, channel, message in make_reader(f).iter_messages():
            assert schema.encoding == "ros2msg" and channel.message_encoding == "cdr"
            top = schema.data.decode().split("=" * 80)[0]
            assert schema.name in get_types_from_msg(top, schema.name)  # the file's text parses as ROS 2 .msg
            msg = typestore.deserialize_cdr(message.data, schema.name)
            seen[channel.topic] += 1
            if channel.topic == "/ct1/image/compressed":
                pixels = np.asarray(Image.open(io.BytesIO(bytes(msg.data))).convert("RGB"))
                np.testing.assert_array_equal(pixels, clip.frames[seen[channel.topic] - 1])
            if channel.topic == "/odom":
                assert (msg.header.frame_id, msg.child_frame_id) == ("map", "base_link")
            if channel.topic == "/ct1/instruction":
                assert msg.data == INSTRUCTION
    assert seen["/ct1/image/compressed"] == len(clip.frames) and seen["/tf_static"] == 1


def test_jpeg_frames_decode_close_to_the_source(store: tuple[Path, Clip], tmp_path: Path) -> None:
    path, clip = store
    out = tmp_path / "clip.mcap"
    result = export(str(path), "--out", str(out), "--image-format", "jpeg", "--jpeg-quality", "95")
    assert result.exit_code == 0, result.output
    images = read_mcap(out)["/ct1/image/compressed"]
    assert all(m.format == "jpeg" for _, _, m in images)
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(bytes(m.data))).convert("RGB")) for _, _, m in images])
    assert decoded.shape == clip.frames.shape
    assert np.abs(decoded.astype(int) - clip.frames).mean() < 4.0


def test_a_store_of_several_clips_needs_item(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "clips.zarr"
    store = ClipStore.create(path)
    for clip_id in ("clip-a", "clip-b"):
        store.append(make_clip(rng, clip_id, n=3))
    out = tmp_path / "x.mcap"
    result = export(str(path), "--out", str(out))
    assert result.exit_code == 2 and "--item" in result.output and "clip-a" in result.output and not out.exists()
    result = export(str(path), "--out", str(out), "--item", "nope")
    assert result.exit_code == 2 and "no clip 'nope'" in result.output and "clip-b" in result.output
    assert export(str(path), "--out", str(out), "--item", "clip-b").exit_code == 0
    assert len(read_mcap(out)["/ct1/image/compressed"]) == 3


def test_bad_sources_are_named_and_leave_no_file(tmp_path: Path) -> None:
    out = tmp_path / "x.mcap"
    result = export(str(tmp_path / "missing"), "--out", str(out))
    assert result.exit_code == 2 and "does not exist" in result.output and "clip store" in result.output
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "notes.txt").write_text("hello")
    result = export(str(odd), "--out", str(out))
    assert result.exit_code == 2 and "not a source" in result.output and "notes.txt" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_bad_options_are_refused_before_the_source_is_read(store: tuple[Path, Clip], tmp_path: Path) -> None:
    path, _ = store
    result = export(str(path), "--out", str(tmp_path / "x.bag"))
    assert result.exit_code == 2 and "must end in .mcap" in result.output
    result = export(str(path), "--out", str(tmp_path / "x.mcap"), "--image-format", "bmp")
    assert result.exit_code == 2 and "png, jpeg" in result.output and "bmp" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clips.zarr"]


def test_existing_out_is_kept_without_force_and_replaced_with_it(store: tuple[Path, Clip], tmp_path: Path) -> None:
    path, _ = store
    out = tmp_path / "x.mcap"
    out.write_bytes(b"keep me")
    result = export(str(path), "--out", str(out))
    assert result.exit_code == 2 and "--force" in result.output and out.read_bytes() == b"keep me"
    assert export(str(path), "--out", str(out), "--force").exit_code == 0
    assert len(read_mcap(out)["/ct1/image/compressed"]) == 6


def test_a_damaged_store_names_the_clip_and_keeps_the_old_file(store: tuple[Path, Clip], tmp_path: Path) -> None:
    path, _ = store
    out = tmp_path / "x.mcap"
    out.write_bytes(b"keep me")
    chunks = sorted(p for p in (path / "clips" / "clip-a" / "frames").rglob("*") if p.is_file() and p.name != "zarr.json")
    chunks[-1].write_bytes(chunks[-1].read_bytes()[:10])  # the last frame's chunk truncated
    result = export(str(path), "--out", str(out), "--force")
    assert result.exit_code == 2, result.output
    assert "clip-a" in result.output and "damaged" in result.output and "Traceback" not in result.output
    assert out.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clips.zarr", "x.mcap"]  # no temporary file left behind


# ---------------------------------------------------------------------------------------------- demo output folders
def decode_png(msg: Any) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(bytes(msg.data))).convert("RGB"))


def path_cameras(path_msg: Any, base_from_cam: np.ndarray) -> np.ndarray:
    return np.stack([pose_matrix(p.pose.position, p.pose.orientation) @ base_from_cam for p in path_msg.poses])




@pytest.fixture(scope="module")
def demo_without_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real ``ct1-sim demo`` folder written without models (each sample's true future, ~6 s)."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CT1_SIM_MODELS", str(out.parent / "no-models"))
        result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_demo_sample_exports_its_frame_true_path_and_instruction(demo_without_models: Path, tmp_path: Path) -> None:
    import json

    from ct1_sim.formats import read_trajectory

    row = json.loads((demo_without_models / "summary.json").read_text())["samples"][0]
    out = tmp_path / "demo.mcap"
    result = export(str(demo_without_models), "--out", str(out), "--item", row["name"])
    assert result.exit_code == 0, result.output
    topics = read_mcap(out)
    truth = read_trajectory(demo_without_models / row["name"] / "trajectory.json", "json")
    stamps = [int(t) * 1000 for t in truth.timestamps_us]
    assert {t: len(m) for t, m in topics.items()} == {
        "/ct1/image/compressed": 1, "/ct1/image/camera_info": 1, "/tf": len(truth), "/odom": len(truth),
        "/tf_static": 1, "/ct1/instruction": 1, "/ct1/trajectories/true": 1}
    (t_image, _, image), = topics["/ct1/image/compressed"]
    assert t_image == stamps[0]
    np.testing.assert_array_equal(decode_png(image), np.asarray(Image.open(demo_without_models / row["name"] / "input.png").convert("RGB")))
    base_from_cam = static_camera(topics)
    np.testing.assert_allclose(relative(path_cameras(topics["/ct1/trajectories/true"][0][2], base_from_cam)),
                               relative(truth.c2w), atol=1e-6)
    assert [stamp_ns(m.header) for _, _, m in topics["/odom"]] == stamps
    assert topics["/ct1/instruction"][0][2].data == row["instruction"]


def test_demo_folder_with_several_samples_needs_item(demo_without_models: Path, tmp_path: Path) -> None:
    result = export(str(demo_without_models), "--out", str(tmp_path / "x.mcap"))
    assert result.exit_code == 2 and "--item" in result.output and "samples" in result.output


def write_demo_like(folder: Path, rng: np.random.Generator, k: int = 3, chosen: int = 1) -> tuple[list[Any], np.ndarray]:
    """A demo folder of one sample as ``ct1-sim demo`` writes it with both models: K sample trajectories, the
    input frame and the generated video along sample ``chosen``."""
    import json

    from ct1_sim.formats import write_trajectory
    from ct1_sim.media import write_mp4

    name = "turn_left-x"
    sample_dir = folder / name
    samples = [make_trajectory(drive_poses(rng, 5), rate_hz=5.0, size=(80, 48)) for _ in range(k)]
    for i, traj in enumerate(samples):
        (sample_dir / f"sample_{i:02d}").mkdir(parents=True)
        write_trajectory(traj, sample_dir / f"sample_{i:02d}" / "trajectory.json", "json")
    write_trajectory(samples[0], sample_dir / "trajectory.json", "json")
    video = np.stack([np.roll(smooth_frames(rng, 1)[0], i, axis=1) for i in range(5)])  # 40x24: half the paths' size
    Image.fromarray(video[0]).save(sample_dir / "input.png")
    write_mp4(video, sample_dir / "generated.mp4", fps=5.0)
    row = {"name": name, "instruction": INSTRUCTION, "predicted_maneuvers": ["turn_left"] * k,
           "files": {"json": "trajectory.json"}, "video_sample": chosen, "video_frames": 5, "video_fps": 5.0}
    (folder / "summary.json").write_text(json.dumps({"status": {}, "samples": [row]}))
    (folder / "index.html").write_text("<html></html>")
    return samples, video


def test_demo_sample_with_models_exports_k_paths_the_chosen_one_and_the_video(tmp_path: Path, rng: np.random.Generator) -> None:
    samples, video = write_demo_like(tmp_path / "demo", rng, k=3, chosen=1)
    out = tmp_path / "demo.mcap"
    result = export(str(tmp_path / "demo"), "--out", str(out))
    assert result.exit_code == 0, result.output
    topics = read_mcap(out)
    stamps = [int(t) * 1000 for t in samples[1].timestamps_us]
    base_from_cam = static_camera(topics)
    (t_best, _, best), = topics["/ct1/trajectories/best"]
    assert t_best == stamps[0] and [stamp_ns(p.header) for p in best.poses] == stamps
    np.testing.assert_allclose(relative(path_cameras(best, base_from_cam)), relative(samples[1].c2w), atol=1e-6)
    got = topics["/ct1/trajectories/samples"]
    assert [t for t, _, _ in got] == [stamps[0]] * 3
    for k, ((_, _, msg), traj) in enumerate(zip(got, samples, strict=True)):  # in sample order
        np.testing.assert_allclose(relative(path_cameras(msg, base_from_cam)), relative(traj.c2w), atol=1e-6)
        (t_alone, _, alone), = topics[f"/ct1/trajectories/samples/{k}"]  # each sample alone too, for 3D panels
        assert t_alone == stamps[0] and alone == msg
    # the generated frames, at the chosen path's times, decode to the video's frames (H.264 decoded by OpenCV)
    frames = topics["/ct1/video/compressed"]
    assert [t for t, _, _ in frames] == stamps
    decoded = np.stack([decode_png(m) for _, _, m in frames])
    assert decoded.shape == video.shape
    from tests.video_helpers import read_video  # OpenCV's FFmpeg backend, not the exporter's imageio reader

    opencv = np.stack(read_video(tmp_path / "demo" / "turn_left-x" / "generated.mp4"))
    assert np.abs(decoded.astype(int) - opencv).mean() < 2.0
    info = topics["/ct1/video/camera_info"][0][2]
    assert (info.width, info.height) == (40, 24)
    np.testing.assert_allclose(np.reshape(info.k, (3, 3))[:2], samples[1].K[:2] / 2, atol=1e-9)  # scaled to the video
    # the ego follows the chosen path
    odom = np.stack([pose_matrix(m.pose.pose.position, m.pose.pose.orientation) @ base_from_cam for _, _, m in topics["/odom"]])
    np.testing.assert_allclose(relative(odom), relative(samples[1].c2w), atol=1e-6)


def test_a_truncated_demo_video_is_named_and_leaves_no_file(tmp_path: Path, rng: np.random.Generator) -> None:
    write_demo_like(tmp_path / "demo", rng)
    video = tmp_path / "demo" / "turn_left-x" / "generated.mp4"
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 3])
    out = tmp_path / "demo.mcap"
    result = export(str(tmp_path / "demo"), "--out", str(out))
    assert result.exit_code == 2 and "generated.mp4" in result.output and "Traceback" not in result.output, result.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


# ------------------------------------------------------------------------------------------- generate outputs
def test_generate_output_exports_the_samples_the_chosen_path_and_the_video(tmp_path: Path) -> None:
    """A real ``ct1-sim generate`` (the shipped trajectory model, a tiny video model, 5 frames), exported from its MP4,
    against an independent prediction with the same seed and an OpenCV decode of the MP4."""
    import json

    from ct1_sim.cli.predict import load_image
    from ct1_sim.data.samples import SAMPLES_DIR, load_samples
    from ct1_sim.world import WorldModel
    from tests.video_helpers import read_video, tiny_pipeline

    sample = load_samples()[0]
    image = SAMPLES_DIR / f"{sample.name}.png"
    tiny_pipeline().save_pretrained(tmp_path / "video")
    gen = tmp_path / "gen" / "left.mp4"
    result = CliRunner().invoke(app, ["generate", "--image", str(image), "--instruction", INSTRUCTION, "--samples", "3",
                                      "--frames", "5", "--steps", "1", "--video-model", str(tmp_path / "video"),
                                      "--device", "cpu", "--out", str(gen)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "gen.mcap"
    result = export(str(gen), "--out", str(out))
    assert result.exit_code == 0, result.output
    topics = read_mcap(out)
    chosen = json.loads(gen.with_suffix(".json").read_text())["chosen"]
    samples = WorldModel.from_pretrained(None, None, device="cpu", runtime="torch").predict(
        load_image(image), INSTRUCTION, num_samples=3, seed=0).trajectories
    base_from_cam = static_camera(topics)
    got = [m for _, _, m in topics["/ct1/trajectories/samples"]]
    assert len(got) == 3
    for msg, traj in zip(got, samples, strict=True):
        np.testing.assert_allclose(relative(path_cameras(msg, base_from_cam)), relative(traj.c2w), atol=1e-6)
    (_, _, best), = topics["/ct1/trajectories/best"]
    np.testing.assert_allclose(relative(path_cameras(best, base_from_cam)), relative(samples[chosen].c2w), atol=1e-6)
    path = samples[chosen]
    t0 = int(path.timestamps_us[0]) * 1000
    (t_input, _, frame0), = topics["/ct1/image/compressed"]
    assert t_input == t0
    np.testing.assert_array_equal(decode_png(frame0), load_image(image))
    video = topics["/ct1/video/compressed"]
    expected_us = np.linspace(path.timestamps_us[0], path.timestamps_us[-1], 5).round().astype(np.int64)
    assert [t for t, _, _ in video] == (expected_us * 1000).tolist()
    opencv = np.stack(read_video(gen))
    assert np.abs(np.stack([decode_png(m) for _, _, m in video]).astype(int) - opencv).mean() < 2.0
    assert [(t, m.data) for t, _, m in topics["/ct1/instruction"]] == [(t0, INSTRUCTION)]


def test_an_old_generate_summary_without_trajectories_says_to_run_generate_again(tmp_path: Path) -> None:
    import json

    from ct1_sim.media import write_mp4

    gen = tmp_path / "old.mp4"
    write_mp4(smooth_frames(np.random.default_rng(0), 2), gen)
    gen.with_suffix(".json").write_text(json.dumps({"chosen": 0, "maneuvers": ["turn_left"], "fps": 5.0, "frames": 2}))
    result = export(str(gen), "--out", str(tmp_path / "x.mcap"))
    assert result.exit_code == 2 and "no trajectories" in result.output and "generate" in result.output
    assert not (tmp_path / "x.mcap").exists()


# ------------------------------------------------------------------------------------------- simulator episodes
@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 1-s ``ct1-sim sim run`` of the expert policy (11 frames at 10 Hz)."""
    out = tmp_path_factory.mktemp("sim") / "drive"
    result = CliRunner().invoke(app, ["sim", "run", "--policy", "expert", "--seconds", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_sim_episode_exports_camera_ego_and_instructions(episode: Path, tmp_path: Path) -> None:
    import json

    from ct1_sim.formats import read_trajectory
    from tests.video_helpers import read_video

    out = tmp_path / "drive.mcap"
    result = export(str(episode), "--out", str(out))
    assert result.exit_code == 0, result.output
    topics = read_mcap(out)
    camera = read_trajectory(episode / "camera.json", "json")
    metrics = json.loads((episode / "metrics.json").read_text())
    n, stamps = len(camera), [int(t) * 1000 for t in camera.timestamps_us]
    assert n == len(metrics["steps"]) + 1 == len(metrics["frames"])  # the reset frame and one per step
    assert stamps == [round(i * 0.1 * 1e9) for i in range(n)]
    assert {t: len(topics[t]) for t in ("/ct1/image/compressed", "/ct1/image/camera_info", "/odom", "/tf", "/tf_static")} == {
        "/ct1/image/compressed": n, "/ct1/image/camera_info": n, "/odom": n, "/tf": n, "/tf_static": 1}
    assert [t for t, _, _ in topics["/ct1/image/compressed"]] == stamps
    # the ego: the rear axle in the town's map frame at full precision; with the mount it gives camera.json's poses
    base_from_cam = static_camera(topics)
    odom = [m for _, _, m in topics["/odom"]]
    np.testing.assert_allclose([(m.pose.pose.position.x, m.pose.pose.position.y, m.pose.pose.position.z) for m in odom],
                               [(f["x"], f["y"], 0.0) for f in metrics["frames"]], atol=1e-9)
    cams = np.stack([pose_matrix(m.pose.pose.position, m.pose.pose.orientation) @ base_from_cam for m in odom])
    np.testing.assert_allclose(cams, camera.c2w, atol=1e-6)
    np.testing.assert_allclose([m.twist.twist.linear.x for m in odom], [f["v"] for f in metrics["frames"]], atol=1e-9)
    np.testing.assert_allclose(base_from_cam[:3, 3], [1.5, 0.0, camera.c2w[0, 2, 3]], atol=1e-6)  # 1.5 m ahead of the axle
    info = topics["/ct1/image/camera_info"][0][2]
    np.testing.assert_allclose(np.reshape(info.k, (3, 3)), camera.K, atol=1e-9)
    frames = np.stack([decode_png(m) for _, _, m in topics["/ct1/image/compressed"]])
    assert np.abs(frames.astype(int) - np.stack(read_video(episode / "camera.mp4"))).mean() < 2.0
    changes = [(round(r["t"] * 1e9), r["instruction"]) for i, r in enumerate(metrics["steps"])
               if i == 0 or r["instruction"] != metrics["steps"][i - 1]["instruction"]]
    assert [(t, m.data) for t, _, m in topics["/ct1/instruction"]] == changes


def test_an_episode_whose_files_disagree_is_refused(episode: Path, tmp_path: Path) -> None:
    import json
    import shutil

    broken = tmp_path / "drive"
    shutil.copytree(episode, broken)
    metrics = json.loads((broken / "metrics.json").read_text())
    metrics["frames"] = metrics["frames"][:-1]
    (broken / "metrics.json").write_text(json.dumps(metrics))
    result = export(str(broken), "--out", str(tmp_path / "x.mcap"))
    assert result.exit_code == 2 and "camera poses" in result.output and "sim run" in result.output, result.output
    (broken / "camera.json").unlink()
    result = export(str(broken), "--out", str(tmp_path / "x.mcap"))
    assert result.exit_code == 2 and "no camera.json" in result.output and not (tmp_path / "x.mcap").exists()


def test_a_truncated_episode_video_is_named_and_leaves_no_file(episode: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "drive"
    shutil.copytree(episode, broken)
    video = broken / "camera.mp4"
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    out = tmp_path / "x.mcap"
    out.write_bytes(b"keep me")
    result = export(str(broken), "--out", str(out), "--force")
    assert result.exit_code == 2 and "camera.mp4" in result.output and "Traceback" not in result.output, result.output
    assert out.read_bytes() == b"keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["drive", "x.mcap"]


# ------------------------------------------------------------------------------------------------- replay runs
@pytest.fixture(scope="module")
def replay_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A replay of the nuScenes-format fixture (two scenes of 15 keyframes) with the constant-velocity baseline."""
    from tests.nuscenes_fixture import VERSION, write_fixture

    root = tmp_path_factory.mktemp("replay")
    write_fixture(root / "nus", gap=False, jump=False)
    result = CliRunner().invoke(app, ["replay", "--dataroot", str(root / "nus"), "--version", VERSION, "--out", str(root / "out"),
                                      "--samples", "2", "--predictor", "constant-velocity", "--no-report"])
    assert result.exit_code == 0, result.output
    return root / "nus", root / "out"


def test_replay_scene_exports_keyframes_samples_best_truth_and_instructions(replay_run: tuple[Path, Path], tmp_path: Path) -> None:
    from ct1_sim.metrics import medoid_index
    from ct1_sim.replay import NuScenesSource, read_table
    from tests.nuscenes_fixture import VERSION

    dataroot, run = replay_run
    out = tmp_path / "scene.mcap"
    result = export(str(run), "--item", "scene-0001", "--out", str(out))
    assert result.exit_code == 0, result.output
    topics = read_mcap(out)
    table = read_table(run / "scenes" / "scene-0001" / "keyframes.zarr", arrays=True)
    keyframes = NuScenesSource(str(dataroot), VERSION).load("scene-0001").keyframes
    n, stamps = len(keyframes), [int(t) * 1000 for t in table["timestamp_us"]]
    assert n == len(stamps) == 15 and stamps == [kf.timestamp_us * 1000 for kf in keyframes]
    assert {t: len(m) for t, m in topics.items()} == {
        "/ct1/image/compressed": n, "/ct1/image/camera_info": n, "/tf": n, "/odom": n, "/tf_static": 1,
        "/ct1/instruction": n, "/ct1/trajectories/best": n, "/ct1/trajectories/samples": 2 * n, "/ct1/trajectories/true": n,
        "/ct1/trajectories/samples/0": n, "/ct1/trajectories/samples/1": n}
    assert [t for t, _, _ in topics["/ct1/image/compressed"]] == stamps
    for (_, _, msg), kf in zip(topics["/ct1/image/compressed"], keyframes, strict=True):
        np.testing.assert_array_equal(decode_png(msg), kf.frames[0])
    base_from_cam = static_camera(topics)
    odom = np.stack([pose_matrix(m.pose.pose.position, m.pose.pose.orientation) @ base_from_cam for _, _, m in topics["/odom"]])
    np.testing.assert_allclose(relative(odom), relative(np.stack([kf.truth.c2w[0] for kf in keyframes])), atol=1e-6)
    samples = topics["/ct1/trajectories/samples"]
    for i, kf in enumerate(keyframes):
        pred = table["pred_c2w"][i]  # (K,T,4,4) relative to the keyframe's camera
        for k in range(2):
            t, _, msg = samples[2 * i + k]
            assert t == stamps[i] and [stamp_ns(p.header) for p in msg.poses] == [int(u) * 1000 for u in kf.truth.timestamps_us]
            np.testing.assert_allclose(relative(path_cameras(msg, base_from_cam)), pred[k], atol=1e-6)
        best = topics["/ct1/trajectories/best"][i][2]
        np.testing.assert_allclose(relative(path_cameras(best, base_from_cam)), pred[medoid_index(list(pred))], atol=1e-6)
        true = topics["/ct1/trajectories/true"][i][2]
        np.testing.assert_allclose(relative(path_cameras(true, base_from_cam)), relative(kf.truth.c2w), atol=1e-6)
    assert [m.data for _, _, m in topics["/ct1/instruction"]] == table["instruction"].tolist()


def test_replay_run_needs_a_scene_and_its_source(replay_run: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    dataroot, run = replay_run
    result = export(str(run), "--out", str(tmp_path / "x.mcap"))
    assert result.exit_code == 2 and "2 scenes" in result.output and "scene-0002" in result.output
    moved = tmp_path / "run"
    shutil.copytree(run, moved)
    run_json = (moved / "run.json").read_text().replace(str(dataroot.resolve()), str(tmp_path / "gone"))
    (moved / "run.json").write_text(run_json)
    result = export(str(moved), "--item", "scene-0001", "--out", str(tmp_path / "x.mcap"))
    assert result.exit_code == 2 and "gone" in result.output and "Traceback" not in result.output, result.output
    assert not (tmp_path / "x.mcap").exists()


def test_ct1_policy_episode_exports_every_replan_k_paths_and_the_followed_one(tmp_path: Path) -> None:
    """The ct1 policy replans every 0.5 s: each replan's K samples and its medoid, rooted at that frame's camera."""
    import json

    from ct1_sim.formats import read_trajectory

    drive = tmp_path / "drive"
    result = CliRunner().invoke(app, ["sim", "run", "--policy", "ct1", "--seconds", "1", "--out", str(drive)])
    assert result.exit_code == 0, result.output
    plans = json.loads((drive / "plans.json").read_text())
    assert [p["time_us"] for p in plans] == [0, 500_000]
    out = tmp_path / "drive.mcap"
    assert export(str(drive), "--out", str(out)).exit_code == 0
    topics = read_mcap(out)
    camera = read_trajectory(drive / "camera.json", "json")
    k = len(plans[0]["samples_c2w"])
    assert len(topics["/ct1/trajectories/best"]) == 2 and len(topics["/ct1/trajectories/samples"]) == 2 * k
    tf = {stamp_ns(m.transforms[0].header): m.transforms[0] for _, _, m in topics["/tf"]}
    link, optical = topics["/tf_static"][0][2].transforms
    base_from_link = pose_matrix(link.transform.translation, link.transform.rotation)
    link_from_cam = pose_matrix(optical.transform.translation, optical.transform.rotation)
    for i, plan in enumerate(plans):
        stamp = plan["time_us"] * 1000
        (t, _, best) = topics["/ct1/trajectories/best"][i]
        assert t == stamp and best.header.frame_id == "ct1_camera_link"
        assert [stamp_ns(p.header) for p in best.poses] == [stamp + o * 1000 for o in plan["offsets_us"]]
        # in the map: the ego's pose at the replan, the mount, then the path; it starts at that frame's camera
        map_from_base = pose_matrix(tf[stamp].transform.translation, tf[stamp].transform.rotation)
        world = np.stack([map_from_base @ base_from_link @ pose_matrix(p.pose.position, p.pose.orientation) @ link_from_cam
                          for p in best.poses])
        frame = round(plan["time_us"] / 100_000)
        np.testing.assert_allclose(world[0], camera.c2w[frame], atol=1e-6)
        np.testing.assert_allclose(relative(world), np.asarray(plan["samples_c2w"][plan["chosen"]]), atol=1e-6)
        for j in range(k):
            _, _, msg = topics["/ct1/trajectories/samples"][i * k + j]
            got = np.stack([pose_matrix(p.pose.position, p.pose.orientation) @ link_from_cam for p in msg.poses])
            np.testing.assert_allclose(relative(got), np.asarray(plan["samples_c2w"][j]), atol=1e-6)
