"""The ROS bridge: message conversions (REP 103, ROS 2 shapes), and the node against a real rosbridge v2 server
started by ``launch/local-rosbridge``, driven by a roslibpy client as a ROS user would."""

from __future__ import annotations

import io
import itertools
import json
import math
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from scipy.spatial.transform import Rotation

from ct1_sim.data.samples import SAMPLES_DIR, load_samples
from ct1_sim.formats.json_format import trajectory_from_dict
from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov
from ct1_sim.metrics import classify_maneuver
from ct1_sim.paths import TRAJECTORY_MODEL, VIDEO_MODEL, default_model_dir
from ct1_sim.ros import (
    BridgeConfig,
    ImageMessageError,
    decode_compressed_image,
    encode_compressed_image,
    ns_to_stamp,
    odometry_speed,
    path_to_trajectory,
    pose_to_matrix,
    prediction_json,
    stamp_to_ns,
    trajectory_to_path,
)
from ct1_sim.ros import contract as c
from ct1_sim.world.world_model import Prediction
from tests.conftest import make_trajectory, random_poses
from tests.ros_helpers import (
    REPO,
    BridgeProcess,
    LocalRosbridge,
    RosClient,
    free_port,
    image_message,
    republish_until,
)
from tests.waiting import wait_for

SIZE = (448, 256)
K = intrinsics_from_fov(*SIZE, 64.0)


def driving(yaw_rate_deg_s: float, speed: float = 10.0, n: int = 16, rate_hz: float = 5.0) -> CameraTrajectory:
    """A camera driving at ``speed`` m/s, yawing at ``yaw_rate_deg_s`` (positive = left), OpenCV axes, y down."""
    c2w = np.tile(np.eye(4), (n, 1, 1))
    dt, heading, pos = 1.0 / rate_hz, 0.0, np.zeros(3)
    for i in range(n):
        # Yaw left about the up axis = rotation by -heading about OpenCV y (down): forward z turns towards -x.
        R = Rotation.from_euler("y", -heading).as_matrix()
        c2w[i, :3, :3], c2w[i, :3, 3] = R, pos
        pos = pos + speed * dt * R[:, 2]
        heading += math.radians(yaw_rate_deg_s) * dt
    return make_trajectory(c2w, rate_hz, SIZE)


def xyz(pose: dict[str, Any]) -> np.ndarray:
    p = pose["pose"]["position"]
    return np.array([p["x"], p["y"], p["z"]])


def stamp_s(msg: dict[str, Any]) -> float:
    return stamp_to_ns(msg["header"]["stamp"]) / 1e9


# ---------------------------------------------------------------------------- conversions (no server)
def test_path_is_rep103_base_link_at_future_times() -> None:
    stamp_ns = 1_700_000_000 * 10**9 + 5
    left = trajectory_to_path(driving(yaw_rate_deg_s=15.0), stamp_ns)
    straight = trajectory_to_path(driving(yaw_rate_deg_s=0.0), stamp_ns)
    for path in (left, straight):
        assert path["header"] == {"stamp": {"sec": 1_700_000_000, "nanosec": 5}, "frame_id": "base_link"}
        assert len(path["poses"]) == 16 and {p["header"]["frame_id"] for p in path["poses"]} == {"base_link"}
        times = np.array([stamp_s(p) for p in path["poses"]]) - stamp_ns / 1e9
        np.testing.assert_allclose(times, np.arange(16) * 0.2, atol=1e-6)  # stamped at the future times
        assert path["poses"][0]["pose"] == {"position": {"x": 0.0, "y": 0.0, "z": 0.0},
                                            "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0}}
    end = xyz(straight["poses"][-1])
    np.testing.assert_allclose(end, [10.0 * 3.0, 0.0, 0.0], atol=1e-9)  # x forward, 10 m/s for 3 s
    end = xyz(left["poses"][-1])
    assert end[0] > 15.0 and end[1] > 3.0 and abs(end[2]) < 1e-9  # forward, to the left (y), on the ground
    q = left["poses"][-1]["pose"]["orientation"]
    yaw = Rotation.from_quat([q["x"], q["y"], q["z"], q["w"]]).as_euler("zyx", degrees=True)[0]
    assert yaw == pytest.approx(15.0 * 3.0, abs=1e-6)  # counter-clockwise about z up = left


def test_camera_moving_down_is_negative_z_in_base_link() -> None:
    c2w = np.tile(np.eye(4), (3, 1, 1))
    c2w[:, 1, 3] = [0.0, 1.0, 2.0]  # OpenCV y points down
    path = trajectory_to_path(make_trajectory(c2w, size=SIZE), 0)
    np.testing.assert_allclose(xyz(path["poses"][2]), [0.0, 0.0, -2.0], atol=1e-12)


def test_path_round_trip(rng: np.random.Generator) -> None:
    c2w = random_poses(rng, 16, max_translation=20.0)
    traj = make_trajectory(c2w, size=SIZE)
    stamp_ns = 42 * 10**9 + 123_000
    back = path_to_trajectory(trajectory_to_path(traj, stamp_ns), traj.K, traj.image_size)
    expected = traj.relative_to_first().replace(timestamps_us=stamp_ns // 1000 + traj.timestamps_us)
    assert back.allclose(expected, atol=1e-9)


def test_stamps_accept_ros1_shape_and_reject_nonsense() -> None:
    assert stamp_to_ns({"secs": 3, "nsecs": 7}) == stamp_to_ns({"sec": 3, "nanosec": 7}) == 3_000_000_007
    assert stamp_to_ns(None) == 0 and ns_to_stamp(3_000_000_007) == {"sec": 3, "nanosec": 7}
    with pytest.raises(ValueError, match="stamp.sec"):
        stamp_to_ns({"sec": -1, "nanosec": 0})
    with pytest.raises(ValueError, match="pose.orientation.w"):
        pose_to_matrix({"position": {"x": 0, "y": 0, "z": 0}, "orientation": {"x": 0, "y": 0, "z": 0}})
    with pytest.raises(ValueError, match="poses"):
        path_to_trajectory({"header": {}, "poses": []}, K, SIZE)


def test_odometry_speed() -> None:
    assert odometry_speed({"twist": {"twist": {"linear": {"x": 3.0, "y": 4.0, "z": 9.0}}}}) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="odometry.twist.twist.linear"):
        odometry_speed({"pose": {}})


def _encoded(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(load_samples()[0].image).save(buf, format=fmt)
    return buf.getvalue()


def test_compressed_image_decoding_and_clear_errors() -> None:
    jpeg, png = _encoded("JPEG"), _encoded("PNG")
    assert decode_compressed_image(image_message(png, "png", 1)).shape == (256, 448, 3)
    msg = image_message(jpeg, "bgr8; jpeg compressed bgr8", 1)  # image_transport's format string
    assert decode_compressed_image(msg).dtype == np.uint8
    assert decode_compressed_image({"format": "jpeg", "data": list(jpeg)}).shape == (256, 448, 3)  # uint8[] as ints
    cases = [
        (image_message(jpeg[: len(jpeg) // 2], "jpeg", 1), r"format says 'jpeg'\) is not a readable JPEG image"),
        (image_message(png, "bmp", 1), "unsupported CompressedImage format 'bmp'"),
        (image_message(png, "jpeg", 1), r"format says 'jpeg'\) is PNG data, not JPEG"),
        (image_message(b"", "png", 1), "empty"),
        ({"format": "png", "data": "not base64!"}, "not valid base64"),
        ({"format": "", "data": ""}, "must name the encoding"),
    ]
    for bad, message in cases:
        with pytest.raises(ImageMessageError, match=message):
            decode_compressed_image(bad)


def test_encode_compressed_image_round_trip() -> None:
    rgb = load_samples()[0].image
    msg = encode_compressed_image(rgb, 5 * 10**9, "cam", fmt="png")
    assert msg["header"] == {"stamp": {"sec": 5, "nanosec": 0}, "frame_id": "cam"} and msg["format"] == "png"
    np.testing.assert_array_equal(decode_compressed_image(msg), rgb)


def test_prediction_json_carries_trajectories() -> None:
    trajs = [driving(15.0), driving(0.0), driving(-15.0)]
    payload = json.loads(prediction_json(Prediction(trajs, [classify_maneuver(t) for t in trajs]), 1, "go", 7 * 10**9, 6.5, "base_link"))
    assert payload["version"] == c.PREDICT_JSON_VERSION and payload["best_index"] == 1 and payload["speed_mps"] == 6.5
    assert payload["stamp"] == {"sec": 7, "nanosec": 0} and len(payload["trajectories"]) == 3
    first = payload["trajectories"][0]
    assert trajectory_from_dict(first["trajectory"]).allclose(trajs[0].relative_to_first())
    assert first["positions"][0] == [0.0, 0.0, 0.0] and first["positions"][-1][1] > 3.0  # left turn: y > 0


def test_bridge_config_names_bad_values() -> None:
    with pytest.raises(ValueError, match="ws://127.0.0.1:9090"):
        BridgeConfig(rosbridge_url="http://localhost:9090")
    with pytest.raises(ValueError, match="num_samples"):
        BridgeConfig(num_samples=0)
    with pytest.raises(ValueError, match="odom_topic"):
        BridgeConfig(odom_topic="odom")


def test_cli_names_a_bad_rosbridge_url() -> None:
    from typer.testing import CliRunner

    from ct1_sim.cli.app import app

    result = CliRunner().invoke(app, ["ros-bridge", "--rosbridge-url", "http://127.0.0.1:9090"])
    assert result.exit_code == 2
    assert "rosbridge_url must look like ws://127.0.0.1:9090" in result.output


def test_a_node_run_from_the_cli_says_how_to_start_a_missing_rosbridge(capsys: pytest.CaptureFixture[str]) -> None:
    """``ct1-sim ros-bridge`` and ``ct1-sim sim ros`` share the wait: a hint on stderr while rosbridge is not
    there, none once it is, and the wait ends when the stop event is set (SIGINT/SIGTERM set it)."""
    import threading

    from ct1_sim.cli.ros_node import wait_until_stopped

    class Node:
        def __init__(self, connected: bool) -> None:
            self.connected = connected

        def wait_connected(self, timeout: float) -> bool:
            return self.connected

    for connected in (False, True):
        stop = threading.Event()
        threading.Timer(0.05, stop.set).start()
        wait_until_stopped(Node(connected), stop, "ws://127.0.0.1:9", "sim ros")
        err = capsys.readouterr().err
        assert err == ("" if connected else "sim ros: still waiting for rosbridge at ws://127.0.0.1:9 (no ROS here? "
                                             "start one with: launch/local-rosbridge 9090)\n"), err


# ---------------------------------------------------------------------------- shipped ROS files
ROSBRIDGE_PYTHON = REPO / ".venv-rosbridge" / "bin" / "python"
CT1_MSGS = REPO / "bridges" / "ros2" / "ct1_msgs"


@pytest.mark.skipif(not ROSBRIDGE_PYTHON.is_file(), reason="no .venv-rosbridge (run: make rosbridge-setup)")
def test_ct1_msgs_interfaces_parse_with_rosidl() -> None:
    """The typed interface package's .msg/.srv files parse with ROS 2's own rosidl_adapter (from the jazzy wheels)."""
    files = sorted(p.relative_to(CT1_MSGS).as_posix() for p in CT1_MSGS.glob("*/*") if p.suffix in (".msg", ".srv"))
    cmake = (CT1_MSGS / "CMakeLists.txt").read_text()
    assert files and all(f'"{f}"' in cmake for f in files), "every interface file is listed in rosidl_generate_interfaces"
    script = (
        "import sys, pathlib\n"
        "from rosidl_adapter.parser import parse_message_file, parse_service_file\n"
        "for f in sys.argv[1:]:\n"
        "    p = pathlib.Path(f)\n"
        "    (parse_message_file if p.suffix == '.msg' else parse_service_file)('ct1_msgs', str(p))\n"
        "    print('ok', p.name)\n"
    )
    out = subprocess.run([str(ROSBRIDGE_PYTHON), "-c", script, *(str(CT1_MSGS / f) for f in files)],
                         capture_output=True, check=False, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("ok ") == len(files)


def test_launch_file_includes_rosbridge_and_starts_the_bridge() -> None:
    from typer.main import get_command

    from ct1_sim.cli.app import app

    root = ET.parse(REPO / "launch" / "ct1_world_model.launch.xml").getroot()
    args = {a.get("name"): a.get("default") for a in root.iter("arg") if a.get("default") is not None}
    assert {"port", "model"} <= set(args)
    include = root.find("include")
    assert include is not None and include.get("file", "").endswith("rosbridge_server)/launch/rosbridge_websocket_launch.xml")
    assert {a.get("name"): a.get("value") for a in include.iter("arg")}["port"] == "$(var port)"
    options = {p.opts[0] for p in get_command(app).commands["ros-bridge"].params}
    executables = list(root.iter("executable"))
    assert executables
    for exe in executables:
        words = exe.get("cmd", "").split()
        assert words[:2] == ["ct1-sim", "ros-bridge"], exe.get("cmd")
        assert {w for w in words if w.startswith("--")} <= options  # every flag is one the CLI knows


# ---------------------------------------------------------------------------- the node on a real rosbridge
PATH_TOPICS = {c.BEST_TOPIC: c.PATH_TYPE, c.SAMPLES_TOPIC: c.PATH_TYPE, c.INSTRUCTION_STATUS_TOPIC: c.INSTRUCTION_STATUS_TYPE}
INPUTS = {c.IMAGE_TOPIC: c.IMAGE_TYPE, c.INSTRUCTION_TOPIC: c.INSTRUCTION_TYPE, "/odom": c.ODOM_TYPE}
NUM_SAMPLES = 4



@pytest.fixture(scope="module")
def bridge(rosbridge: LocalRosbridge, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BridgeProcess]:
    node = BridgeProcess(rosbridge.url, tmp_path_factory.mktemp("ros") / "bridge.log",
                         "--samples", str(NUM_SAMPLES), "--seed", "0", "--max-backoff", "1", "--device", "cpu")
    node.start()
    yield node
    node.stop()
    assert node.proc is not None and node.proc.returncode == 0, node.log()[-3000:]  # a clean exit on SIGTERM


@pytest.fixture(scope="module")
def client(rosbridge: LocalRosbridge, bridge: BridgeProcess) -> Iterator[RosClient]:
    ros = RosClient(rosbridge.port, PATH_TOPICS, INPUTS)
    answer = ros.wait_service(timeout=120)  # the bridge loads the model, connects, advertises
    assert answer == {"success": False, "message": f"nothing to predict yet: publish on {c.IMAGE_TOPIC} and {c.INSTRUCTION_TOPIC} first"}
    yield ros
    ros.close()


SAMPLES = {s.maneuver: s for s in load_samples()}
LEFT = SAMPLES["turn_left"]
PNG_LEFT = (SAMPLES_DIR / f"{LEFT.name}.png").read_bytes()


def paths_with_stamp(sec: int, count: int) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None]:
    """A predicate for :meth:`RosClient.wait_messages`: the first ``count`` paths stamped at second ``sec``."""

    def found(msgs: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        hits = [m for m in msgs if m["header"]["stamp"]["sec"] == sec]
        return hits[:count] if len(hits) >= count else None

    return found


def predict_by_topic(client: RosClient, image: dict[str, Any], instruction: str, timeout: float = 90.0,
                     every: float = 4.0) -> dict[str, Any]:
    """Publish an image and an instruction (again every ``every`` s: a message sent while DDS is still matching a
    just-advertised publisher can be lost) until the best path for that image's stamp arrives; returns it."""
    sec = image["header"]["stamp"]["sec"]

    def publish() -> None:
        client.publish(c.IMAGE_TOPIC, image)
        client.publish(c.INSTRUCTION_TOPIC, {"data": instruction})

    return republish_until(publish, lambda s: client.wait_messages(c.BEST_TOPIC, paths_with_stamp(sec, 1), s)[0], timeout, every)


def test_instruction_and_image_give_paths_in_base_link(client: RosClient) -> None:
    best = predict_by_topic(client, image_message(PNG_LEFT, "png", 1000), LEFT.instruction)
    samples = client.wait_messages(c.SAMPLES_TOPIC, paths_with_stamp(1000, NUM_SAMPLES), 30)
    assert best["header"] == {"stamp": {"sec": 1000, "nanosec": 0}, "frame_id": "base_link"}
    assert any(s["poses"] == best["poses"] for s in samples)  # the best is one of the samples (their medoid)
    for path in [best, *samples]:
        poses = path["poses"]
        assert len(poses) == 16 and all(p["header"]["frame_id"] == "base_link" for p in poses)
        times = [stamp_s(p) for p in poses]
        assert times[0] == 1000.0 and all(b > a for a, b in itertools.pairwise(times))
        np.testing.assert_allclose(xyz(poses[0]), 0.0, atol=1e-9)
        assert xyz(poses[-1])[0] > 3.0  # REP 103: x forward
    end = xyz(best["poses"][-1])
    assert end[1] > 1.0, f"a left turn ends to the left (+y), got {end}"
    traj = path_to_trajectory(best, K, SIZE)  # back to OpenCV camera poses: the maneuver reads as a left turn
    assert classify_maneuver(traj) == "turn_left"


def test_predict_service_answers_with_json_and_uses_odometry(client: RosClient) -> None:
    odom = {"header": {"stamp": {"sec": 1000, "nanosec": 0}, "frame_id": "odom"}, "child_frame_id": "base_link",
            "twist": {"twist": {"linear": {"x": 7.5, "y": 0.0, "z": 0.0}, "angular": {"x": 0.0, "y": 0.0, "z": 0.0}}}}

    def answer_with_speed() -> dict[str, Any] | None:
        client.publish("/odom", odom)
        answer = client.call_predict()
        assert answer["success"], answer["message"]
        payload = json.loads(answer["message"])
        return payload if payload["speed_mps"] == pytest.approx(7.5) else None

    payload = wait_for(answer_with_speed, 60, "a prediction that used the odometry speed", interval=0.5)
    assert payload["instruction"] == LEFT.instruction and payload["frame_id"] == "base_link"
    assert payload["stamp"] == {"sec": 1000, "nanosec": 0}
    assert len(payload["trajectories"]) == len(payload["maneuvers"]) == NUM_SAMPLES
    assert 0 <= payload["best_index"] < NUM_SAMPLES
    for item in payload["trajectories"]:
        traj = trajectory_from_dict(item["trajectory"])
        assert len(traj) == 16 and item["positions"][0] == [0.0, 0.0, 0.0]
        assert item["times_s"][0] == 0.0 and item["times_s"][-1] == pytest.approx(3.0)


def test_bad_messages_are_logged_and_the_bridge_keeps_serving(client: RosClient, bridge: BridgeProcess) -> None:
    jpeg = _encoded("JPEG")
    client.publish(c.IMAGE_TOPIC, image_message(jpeg[: len(jpeg) // 3], "jpeg", 2000))
    bridge.wait_log("format says 'jpeg') is not a readable JPEG image")
    client.publish(c.IMAGE_TOPIC, image_message(PNG_LEFT, "rgb8", 2000))
    bridge.wait_log("unsupported CompressedImage format 'rgb8'")
    client.publish(c.IMAGE_TOPIC, image_message(PNG_LEFT, "jpeg", 2000))
    bridge.wait_log("format says 'jpeg') is PNG data, not JPEG")
    client.publish(c.INSTRUCTION_TOPIC, {"data": "   "})
    bridge.wait_log("the instruction on /ct1/instruction is empty")
    assert bridge.alive()
    payload = json.loads(client.call_predict()["message"])
    assert payload["stamp"]["sec"] == 1000 and payload["instruction"] == LEFT.instruction  # bad inputs replaced nothing
    right = SAMPLES["turn_right"]
    buf = io.BytesIO()
    Image.fromarray(right.image).save(buf, format="JPEG")
    best = predict_by_topic(client, image_message(buf.getvalue(), "jpeg", 2001), right.instruction)
    assert xyz(best["poses"][-1])[1] < -1.0  # a right turn ends to the right (-y)


def test_an_unsupported_instruction_is_refused_with_the_reason_on_the_status_topic_and_the_service(client: RosClient) -> None:
    def status_of(text: str) -> Callable[[list[dict[str, Any]]], dict[str, Any] | None]:
        def found(msgs: list[dict[str, Any]]) -> dict[str, Any] | None:
            hits = [json.loads(m["data"]) for m in msgs if json.loads(m["data"]).get("instruction") == text]
            return hits[-1] if hits else None
        return found

    best_before = len(client.received[c.BEST_TOPIC])
    client.publish(c.IMAGE_TOPIC, image_message(PNG_LEFT, "png", 3000))
    client.publish(c.INSTRUCTION_TOPIC, {"data": "make a U-turn"})
    status = client.wait_messages(c.INSTRUCTION_STATUS_TOPIC, status_of("make a U-turn"), 60)
    assert status["supported"] is False and status["maneuver"] == "u_turn" and status["nearest"] == "turn_left"
    assert "U-turn" in status["reason"]
    answer = client.call_predict()
    assert answer["success"] is False
    payload = json.loads(answer["message"])
    assert payload["supported"] is False and payload["trajectories"] == [] and payload["nearest"] == "turn_left"
    assert not [m for m in client.received[c.BEST_TOPIC][best_before:] if m["header"]["stamp"]["sec"] == 3000]  # no path driven
    before = len(client.received[c.INSTRUCTION_STATUS_TOPIC])
    predict_by_topic(client, image_message(PNG_LEFT, "png", 3001), LEFT.instruction)  # a supported one is driven again
    fresh = client.wait_messages(c.INSTRUCTION_STATUS_TOPIC, lambda msgs: status_of(LEFT.instruction)(msgs[before:]), 30)
    assert fresh["supported"] is True and fresh["maneuver"] == "turn_left"  # and says so


def test_bridge_survives_a_rosbridge_restart(client: RosClient, bridge: BridgeProcess, rosbridge: LocalRosbridge) -> None:
    rosbridge.kill()
    bridge.wait_log("lost the rosbridge connection")
    rosbridge.start()
    bridge.wait_log("reconnected to rosbridge", timeout=60)
    assert json.loads(client.wait_service(timeout=60)["message"])["stamp"]["sec"] == 3001  # re-advertised, state kept
    best = predict_by_topic(client, image_message(PNG_LEFT, "png", 3000), LEFT.instruction)  # re-subscribed
    assert best["header"]["frame_id"] == "base_link" and len(best["poses"]) == 16
    assert bridge.alive()


@pytest.mark.slow
@pytest.mark.parametrize("has_video_model", [True, False], ids=["video-model", "no-video-model"])
def test_video_enabled_bridge_waits_for_rosbridge_and_keeps_serving_paths(tmp_path: Path, has_video_model: bool) -> None:
    """Started before rosbridge exists, it connects when it appears; with --video it publishes the rollout's frames
    when a video model is there, else logs the failed rollout and still publishes trajectories."""
    env = {}
    if has_video_model and not (default_model_dir(VIDEO_MODEL) / "model_index.json").is_file():
        pytest.skip(f"no video model shipped at {default_model_dir(VIDEO_MODEL)}")
    if not has_video_model:  # a models folder holding only the trajectory model
        (tmp_path / "models").mkdir()
        (tmp_path / "models" / TRAJECTORY_MODEL).symlink_to(default_model_dir(TRAJECTORY_MODEL))
        env["CT1_SIM_MODELS"] = str(tmp_path / "models")
    server = LocalRosbridge(free_port(), tmp_path / "rosbridge.log")
    node = BridgeProcess(server.url, tmp_path / "bridge.log", "--samples", "2", "--seed", "1", "--video",
                         "--max-backoff", "1", "--device", "cpu", env=env)
    node.start()
    ros = None
    try:
        node.wait_log("connecting to rosbridge", timeout=120)
        server.start()
        ros = RosClient(server.port, {**PATH_TOPICS, c.VIDEO_TOPIC: c.VIDEO_TYPE}, INPUTS)
        ros.wait_service(timeout=120)
        best = predict_by_topic(ros, image_message(PNG_LEFT, "png", 4000, "front_camera_optical"), LEFT.instruction,
                                timeout=300, every=60)
        assert len(best["poses"]) == 16
        if has_video_model:
            frames = ros.wait_messages(c.VIDEO_TOPIC, lambda msgs: msgs[:16] if len(msgs) >= 16 else None, 300)
            times = [stamp_s(f) for f in frames]
            assert times[0] == 4000.0 and all(b > a for a, b in itertools.pairwise(times))
            assert {f["header"]["frame_id"] for f in frames} == {"front_camera_optical"}
            assert decode_compressed_image(frames[-1]).ndim == 3
        else:
            node.wait_log("video rollout failed, publishing trajectories only", timeout=60)
            assert json.loads(ros.call_predict()["message"])["stamp"]["sec"] == 4000  # still serving
    finally:
        if ros is not None:
            ros.close()
        node.stop()
        server.stop()
