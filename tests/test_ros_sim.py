"""The ROS simulator node (``ct1-sim sim ros``): command and message conversions, the simulator core without ROS,
and the node against a real rosbridge v2 server (``launch/local-rosbridge``) driven by an external policy client
in synchronous mode, as a ROS user would."""

from __future__ import annotations

import json
import math
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import roslibpy

from ct1_sim.clip_spec import CLIP_SPEC
from ct1_sim.ros import camera_info, decode_compressed_image, stamp_to_ns
from ct1_sim.ros import contract as c
from ct1_sim.ros.messages import clock, planar_pose_matrix
from ct1_sim.ros.sim_commands import CommandError, ackermann_action, path_command, twist_action
from ct1_sim.ros.sim_core import EpisodeEnded, SimCore
from ct1_sim.sim.env import DrivingEnv
from tests.ros_helpers import (
    REPO,
    LocalRosbridge,
    RosClient,
    SimNodeProcess,
    call_service,
    free_port,
    republish_until,
    wait_service_answer,
)

DT = 0.1
DT_NS = 100_000_000


def path_msg(points: list[tuple[float, float]], frame: str = "base_link", dt_s: float | None = 0.2) -> dict[str, Any]:
    """A ``nav_msgs/msg/Path`` through ``points`` (x forward, y left), pose i stamped at i * ``dt_s`` (None: untimed)."""
    def stamp(i: int) -> dict[str, int]:
        ns = 0 if dt_s is None else round(i * dt_s * 1e9)
        return {"sec": ns // 10**9, "nanosec": ns % 10**9}

    return {"header": {"stamp": {"sec": 0, "nanosec": 0}, "frame_id": frame},
            "poses": [{"header": {"stamp": stamp(i), "frame_id": frame},
                       "pose": {"position": {"x": x, "y": y, "z": 0.0}, "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0}}}
                      for i, (x, y) in enumerate(points)]}


def twist(speed: float, yaw_rate: float = 0.0) -> dict[str, Any]:
    return {"linear": {"x": speed, "y": 0.0, "z": 0.0}, "angular": {"x": 0.0, "y": 0.0, "z": yaw_rate}}


# ---------------------------------------------------------------------------- conversions (no server)
def test_twist_and_ackermann_become_env_actions() -> None:
    np.testing.assert_array_equal(twist_action(twist(5.0, 0.2)), [5.0, 0.2])
    assert math.isnan(twist_action({"linear": {"x": None}, "angular": {"z": 0.0}})[0])  # null (a NaN in JSON) -> NaN
    np.testing.assert_array_equal(twist_action({}), [0.0, 0.0])  # ROS defaults
    drive = {"header": {}, "drive": {"steering_angle": 0.1, "steering_angle_velocity": 9.0, "speed": 4.0, "acceleration": -2.0, "jerk": 0.0}}
    np.testing.assert_array_equal(ackermann_action(drive), [0.1, 4.0, 2.0])  # the acceleration's magnitude bounds the change
    with pytest.raises(CommandError, match=r"twist.linear.x must be a number, got 'fast'"):
        twist_action({"linear": {"x": "fast"}})
    with pytest.raises(CommandError, match="AckermannDriveStamped"):
        ackermann_action([1, 2])


def test_timed_path_is_resampled_at_the_env_steps_and_held_in_the_map_frame() -> None:
    # 5 m/s straight ahead, one pose every 0.1 s; the ego at (10, 20) heading +y (yaw 90 deg) in the map
    pts = [(0.5 * i, 0.0) for i in range(40)]
    held = path_command(path_msg(pts, dt_s=0.1), 10.0, 20.0, math.pi / 2, now_s=3.0, speed_mps=0.0)
    assert held.timed
    np.testing.assert_allclose(held.xy[5], [10.0, 22.5], atol=1e-12)  # base_link x forward = map +y here
    action = held.action(10.0, 20.0, math.pi / 2, 3.0)
    assert action.shape == (15, 2)
    np.testing.assert_allclose(action[:, 0], np.minimum(1.0 * np.arange(1, 16), 19.5), atol=1e-9)  # 0.2 s = 1 m; ends at 19.5 m
    np.testing.assert_allclose(action[:, 1], 0.0, atol=1e-9)
    # 1 s later the ego has moved 5 m along the path: the same path, seen from there, starts 1 m ahead again
    later = held.action(10.0, 25.0, math.pi / 2, 4.0)
    np.testing.assert_allclose(later[:3, 0], [1.0, 2.0, 3.0], atol=1e-9)


def test_untimed_path_is_driven_along_its_arc_length() -> None:
    pts = [(float(x), 0.0) for x in range(3, 30)]  # starts 3 m ahead: the origin is put first
    held = path_command(path_msg(pts, dt_s=None), 0.0, 0.0, 0.0, now_s=0.0, speed_mps=4.0)
    assert not held.timed
    np.testing.assert_allclose(held.action(0.0, 0.0, 0.0, 0.0)[:3, 0], [0.8, 1.6, 2.4], atol=1e-9)  # 4 m/s
    slow = path_command(path_msg(pts, dt_s=None), 0.0, 0.0, 0.0, now_s=0.0, speed_mps=0.0)  # at rest: the minimum speed
    np.testing.assert_allclose(slow.action(0.0, 0.0, 0.0, 0.0)[0, 0], 0.4, atol=1e-9)


def test_bad_paths_are_refused_naming_the_problem() -> None:
    with pytest.raises(CommandError, match=r"frame_id is 'map', but paths must be in 'base_link'"):
        path_command(path_msg([(1.0, 0.0)], frame="map"), 0, 0, 0, 0, 0)
    with pytest.raises(CommandError, match="no poses"):
        path_command({"header": {"frame_id": "base_link"}, "poses": []}, 0, 0, 0, 0, 0)
    bad = path_msg([(1.0, 0.0), (2.0, 0.0)])
    bad["poses"][1]["pose"]["position"]["y"] = None
    with pytest.raises(CommandError, match=r"poses\[1\].pose.position is not finite"):
        path_command(bad, 0, 0, 0, 0, 0)


def test_camera_info_clock_and_planar_pose() -> None:
    info = camera_info(CLIP_SPEC.K, (448, 256), 1_500_000_000, "cam")
    assert info["width"] == 448 and info["height"] == 256 and info["header"]["frame_id"] == "cam"
    np.testing.assert_allclose(np.reshape(info["k"], (3, 3)), CLIP_SPEC.K)
    np.testing.assert_allclose(np.reshape(info["p"], (3, 4))[:, :3], CLIP_SPEC.K)
    assert np.reshape(info["p"], (3, 4))[:, 3].tolist() == [0.0, 0.0, 0.0]
    assert clock(1_500_000_000) == {"clock": {"sec": 1, "nanosec": 500_000_000}}
    T = planar_pose_matrix(1.0, 2.0, math.pi / 2)
    np.testing.assert_allclose(T @ [1.0, 0.0, 0.0, 1.0], [1.0, 3.0, 0.0, 1.0], atol=1e-12)  # forward = +y at yaw 90 deg


@pytest.fixture(scope="module")
def core() -> Iterator[SimCore]:
    env = DrivingEnv(action_type="ackermann", camera=False)
    yield SimCore(env, {"town": 0, "speed": 0.0, "seconds": 2.0}, seed=0)
    env.close()


def test_core_holds_commands_reports_fixes_and_ends_episodes(core: SimCore) -> None:
    reset = core.reset()
    assert reset["step"] == 0 and reset["speed_mps"] == 0.0 and reset["dt_s"] == DT
    assert core.set_command("twist", twist(5.0)) == {"event": "command", "kind": "twist"}
    assert core.set_command("twist", twist(6.0)) is None  # same kind, nothing to say
    first = core.step()
    assert first["command"] == "twist" and first["action_issues"] == [] and first["speed_mps"] > 0.0
    event = core.set_command("twist", {"linear": {"x": math.nan}, "angular": {"z": 9.0}})  # a NaN, as rosbridge_suite passes it
    assert event["event"] == "bad_command" and event["values"] == [None, 9.0]
    issues = core.step()["action_issues"]
    assert "twist: speed is nan; using the last value 6.000" in issues
    assert any("yaw rate 9.000 outside [-1.500, 1.500]; clamped" in i for i in issues)
    core.set_command("ackermann", {"drive": {"steering_angle": 0.0, "speed": 99.0, "acceleration": 0.0}})
    assert "speed 99.000 outside [0.000, 30.000]; clamped" in core.step()["action_issues"]
    names = [topic for topic, _ in core.messages()]
    assert names == [c.CLOCK_TOPIC, c.TF_TOPIC, c.SIM_CAMERA_INFO_TOPIC, c.SIM_IMAGE_TOPIC, c.SIM_ODOM_TOPIC]
    while not core.done:
        last = core.step()
    assert last["termination"] == "time_limit" and last["episode_metrics"]["duration_s"] == pytest.approx(2.0)
    with pytest.raises(EpisodeEnded, match="/ct1/sim/reset"):
        core.step()
    before = core.clock_ns
    assert core.reset()["episode"] == 2 and core.clock_ns == before + DT_NS  # the clock never goes back


def test_cli_names_bad_settings() -> None:
    from typer.testing import CliRunner

    from ct1_sim.cli.app import app

    result = CliRunner().invoke(app, ["sim", "ros", "--rosbridge-url", "http://127.0.0.1:9090"])
    assert result.exit_code == 2 and "rosbridge_url must look like ws://127.0.0.1:9090" in result.output
    result = CliRunner().invoke(app, ["sim", "ros", "--world", "dream"])
    assert result.exit_code == 2 and "unknown world 'dream'" in result.output


def test_launch_file_includes_rosbridge_and_starts_the_simulator() -> None:
    from typer.main import get_command

    from ct1_sim.cli.app import app

    root = ET.parse(REPO / "launch" / "ct1_sim.launch.xml").getroot()
    include = root.find("include")
    assert include is not None and include.get("file", "").endswith("rosbridge_server)/launch/rosbridge_websocket_launch.xml")
    sim = next(cmd for cmd in get_command(app).commands["sim"].commands.values() if cmd.name == "ros")
    options = {o for p in sim.params for o in (*p.opts, *p.secondary_opts)}
    executables = list(root.iter("executable"))
    assert len(executables) == 2
    for exe in executables:
        words = shlex.split(exe.get("cmd", ""))  # ROS 2 launch splits cmd as a shell would
        assert words[:3] == ["ct1-sim", "sim", "ros"], exe.get("cmd")
        assert {w for w in words if w.startswith("--")} <= options  # every flag is one the CLI knows
    assert {"--synchronous", "--real-time"} <= {w for exe in executables for w in shlex.split(exe.get("cmd", ""))}


# ---------------------------------------------------------------------------- the node on a real rosbridge
OUTPUTS = {c.SIM_IMAGE_TOPIC: c.SIM_IMAGE_TYPE, c.SIM_CAMERA_INFO_TOPIC: c.SIM_CAMERA_INFO_TYPE, c.SIM_ODOM_TOPIC: c.SIM_ODOM_TYPE,
           c.CLOCK_TOPIC: c.CLOCK_TYPE, c.SIM_METRICS_TOPIC: c.SIM_METRICS_TYPE, c.SIM_STATUS_TOPIC: c.SIM_STATUS_TYPE}
INPUTS = {c.SIM_CMD_VEL_TOPIC: c.SIM_CMD_VEL_TYPE, c.SIM_PATH_TOPIC: c.SIM_PATH_TYPE}



@pytest.fixture(scope="module")
def node(rosbridge: LocalRosbridge, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNodeProcess]:
    proc = SimNodeProcess(rosbridge.url, tmp_path_factory.mktemp("ros") / "sim.log", "--world", "procedural", "--town", "0",
                          "--route", "turn left", "--seconds", "60", "--max-backoff", "1", "--device", "cpu")
    proc.start()
    yield proc
    proc.stop()
    assert proc.proc is not None and proc.proc.returncode == 0, proc.log()[-3000:]  # a clean exit on SIGTERM


@pytest.fixture(scope="module")
def client(rosbridge: LocalRosbridge, node: SimNodeProcess) -> Iterator[RosClient]:
    ros = RosClient(rosbridge.port, OUTPUTS, INPUTS)
    answer = wait_service_answer(ros, c.SIM_RESET_SERVICE, timeout=120)  # the node builds its town, connects, advertises
    assert answer["success"], answer
    yield ros
    ros.close()


def stamp_ns(msg: dict[str, Any]) -> int:
    return stamp_to_ns(msg["clock"] if "clock" in msg else msg["header"]["stamp"])


def at_stamp(ns: int) -> Callable[[list[dict[str, Any]]], dict[str, Any] | None]:
    def found(msgs: list[dict[str, Any]]) -> dict[str, Any] | None:
        return next((m for m in msgs if stamp_ns(m) == ns), None)
    return found


def metrics_at(ns: int) -> Callable[[list[dict[str, Any]]], dict[str, Any] | None]:
    def found(msgs: list[dict[str, Any]]) -> dict[str, Any] | None:
        return next((r for r in (json.loads(m["data"]) for m in msgs) if stamp_to_ns(r["stamp"]) == ns), None)
    return found


def status_event(client: RosClient, topic: str, msg: dict[str, Any], event: str, kind: str, timeout: float = 30.0) -> dict[str, Any]:
    """Publish ``msg`` on ``topic`` (again every 2 s: a first message can be lost while DDS matches a new publisher)
    until the node says ``event`` for ``kind`` on its status topic; returns that event."""
    have = len(client.received[c.SIM_STATUS_TOPIC])

    def found(msgs: list[dict[str, Any]]) -> dict[str, Any] | None:
        events = [json.loads(m["data"]) for m in msgs[have:]]
        return next((e for e in events if e["event"] == event and e["kind"] == kind), None)

    return republish_until(lambda: client.publish(topic, msg), lambda s: client.wait_messages(c.SIM_STATUS_TOPIC, found, s),
                           timeout, 2.0)


def step(client: RosClient) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Call ``/ct1/sim/step``; returns its JSON and the step's message on every output topic (waited for by stamp)."""
    answer = call_service(client, c.SIM_STEP_SERVICE)
    assert answer["success"], answer
    payload = json.loads(answer["message"])
    ns = stamp_to_ns(payload["stamp"])
    got = {topic: client.wait_messages(topic, at_stamp(ns), 30) for topic in (c.CLOCK_TOPIC, c.SIM_ODOM_TOPIC,
                                                                              c.SIM_CAMERA_INFO_TOPIC, c.SIM_IMAGE_TOPIC)}
    got[c.SIM_METRICS_TOPIC] = client.wait_messages(c.SIM_METRICS_TOPIC, metrics_at(ns), 30)
    return payload, got


def pose_of(odom: dict[str, Any]) -> tuple[float, float, float]:
    p, q = odom["pose"]["pose"]["position"], odom["pose"]["pose"]["orientation"]
    return p["x"], p["y"], 2.0 * math.atan2(q["z"], q["w"])


def test_policy_client_drives_by_twist_in_synchronous_mode(client: RosClient) -> None:
    status_event(client, c.SIM_CMD_VEL_TOPIC, twist(5.0), "command", "twist")
    start_payload, start = step(client)
    x0, y0, yaw0 = pose_of(start[c.SIM_ODOM_TOPIC])
    steps = [start_payload]
    for _ in range(10):
        payload, got = step(client)
        steps.append(payload)
        odom, cam, image = got[c.SIM_ODOM_TOPIC], got[c.SIM_CAMERA_INFO_TOPIC], got[c.SIM_IMAGE_TOPIC]
        assert odom["header"]["frame_id"] == "map" and odom["child_frame_id"] == "base_link"
        assert cam["header"]["frame_id"] == image["header"]["frame_id"] == c.SIM_CAMERA_FRAME
        assert payload["command"] == "twist" and payload["vehicle_command"][1] == 5.0
    assert [s["step"] for s in steps] == list(range(steps[0]["step"], steps[0]["step"] + 11))
    clocks = [stamp_to_ns(s["stamp"]) for s in steps]
    assert set(np.diff(clocks)) == {DT_NS}  # /clock and every stamp advance by dt per step
    assert stamp_ns(got[c.CLOCK_TOPIC]) == clocks[-1]
    x, y, yaw = pose_of(odom)
    moved = np.array([x - x0, y - y0])
    forward = moved @ [math.cos(yaw0), math.sin(yaw0)]
    assert forward > 1.0 and abs(moved @ [-math.sin(yaw0), math.cos(yaw0)]) < 0.05 and abs(yaw - yaw0) < 1e-3  # straight ahead
    assert 0.0 < odom["twist"]["twist"]["linear"]["x"] <= 5.0  # accelerating towards 5 m/s
    assert got[c.SIM_METRICS_TOPIC]["speed_mps"] == pytest.approx(odom["twist"]["twist"]["linear"]["x"], abs=1e-3)
    assert cam["width"] == 448 and cam["height"] == 256
    np.testing.assert_allclose(np.reshape(cam["k"], (3, 3)), CLIP_SPEC.K)
    assert image["format"] == "jpeg"
    rgb = decode_compressed_image(image)
    assert rgb.shape == (256, 448, 3) and rgb.std() > 10  # a rendered scene, not a blank frame


def test_a_path_in_base_link_steers_and_one_in_map_is_refused(client: RosClient) -> None:
    left = [(5.0 * math.sin(a), 5.0 * (1 - math.cos(a))) for a in np.linspace(0.0, 1.2, 16)]  # a left arc, 16 poses
    event = status_event(client, c.SIM_PATH_TOPIC, path_msg(left, dt_s=0.2), "command", "path")
    assert event["timed"] is True
    _, got = step(client)
    _, _, yaw0 = pose_of(got[c.SIM_ODOM_TOPIC])
    for _ in range(8):
        payload, got = step(client)
        assert payload["command"] == "path"
    assert pose_of(got[c.SIM_ODOM_TOPIC])[2] > yaw0 + 0.05  # turned left (yaw counter-clockwise)
    refused = status_event(client, c.SIM_PATH_TOPIC, path_msg(left, frame="map"), "refused", "path")
    assert "frame_id is 'map'" in refused["error"] and refused["topic"] == c.SIM_PATH_TOPIC
    assert step(client)[0]["command"] == "path"  # the held command stays


def test_over_limit_commands_are_clamped_and_said_in_the_metrics(client: RosClient, node: SimNodeProcess) -> None:
    # NaN cannot cross rosbridge-server-rs (its JSON has no NaN); the core's test covers it
    event = status_event(client, c.SIM_CMD_VEL_TOPIC, twist(100.0, 9.0), "bad_command", "twist")
    assert event["values"] == [100.0, 9.0] and event["high"] == [30.0, 1.5]
    _, got = step(client)
    issues = got[c.SIM_METRICS_TOPIC]["action_issues"]
    assert any("speed 100.000 outside [0.000, 30.000]; clamped" in i for i in issues), issues
    assert any("yaw rate 9.000 outside" in i for i in issues), issues
    node.wait_log("not finite or beyond the limits")
    refused = status_event(client, c.SIM_PATH_TOPIC, {"header": {"frame_id": "base_link"}, "poses": []}, "refused", "path")
    assert "no poses" in refused["error"]
    assert node.alive()


def test_types_the_server_lacks_are_logged_once_and_the_rest_is_served(node: SimNodeProcess, client: RosClient) -> None:
    log = node.wait_log(f"rosbridge refused to advertise {c.TF_TOPIC} ({c.TF_TYPE})")
    node.wait_log(f"rosbridge refused to subscribe {c.SIM_ACKERMANN_TOPIC} ({c.SIM_ACKERMANN_TYPE})")
    assert log.count(f"rosbridge refused to advertise {c.TF_TOPIC}") == 1
    assert step(client)[0]["step"] > 0


def test_reset_starts_a_new_episode_and_the_clock_goes_on(client: RosClient) -> None:
    before, _ = step(client)
    answer = call_service(client, c.SIM_RESET_SERVICE)
    assert answer["success"]
    reset = json.loads(answer["message"])
    assert reset["type"] == "reset" and reset["step"] == 0 and reset["episode"] == before["episode"] + 1
    ns = stamp_to_ns(reset["stamp"])
    assert ns == stamp_to_ns(before["stamp"]) + DT_NS
    odom = client.wait_messages(c.SIM_ODOM_TOPIC, at_stamp(ns), 30)
    assert odom["twist"]["twist"]["linear"]["x"] == 0.0  # the new episode starts at rest (--speed 0)
    assert client.wait_messages(c.SIM_METRICS_TOPIC, metrics_at(ns), 30)["type"] == "reset"
    assert step(client)[0]["step"] == 1 and step(client)[0]["command"] is None  # no command held: braking


def test_node_survives_a_rosbridge_restart(client: RosClient, node: SimNodeProcess, rosbridge: LocalRosbridge) -> None:
    before, _ = step(client)
    rosbridge.kill()
    node.wait_log("lost the rosbridge connection")
    rosbridge.start()
    node.wait_log("reconnected to rosbridge", timeout=60)
    answer = wait_service_answer(client, c.SIM_STEP_SERVICE, timeout=60)  # re-advertised
    payload = json.loads(answer["message"])
    assert payload["episode"] == before["episode"] and payload["step"] == before["step"] + 1  # the episode was kept
    for _ in range(40):  # re-subscribed: a new speed reaches the node (publishing again while DDS matches)
        client.publish(c.SIM_CMD_VEL_TOPIC, twist(3.25))
        payload, got = step(client)  # every output re-advertised (step() waits for each)
        if payload["vehicle_command"][1] == 3.25:
            break
    assert payload["command"] == "twist" and payload["vehicle_command"][1] == 3.25
    assert got[c.SIM_ODOM_TOPIC]["child_frame_id"] == "base_link"
    assert node.alive()


def test_real_time_mode_steps_on_its_own(tmp_path: Path) -> None:
    rosbridge = LocalRosbridge(free_port(), tmp_path / "rosbridge.log")  # its own: the module's has a synchronous node
    rosbridge.start()
    proc = SimNodeProcess(rosbridge.url, tmp_path / "realtime.log", "--real-time", "--town", "0",
                          "--route", "turn left", "--seconds", "30", "--dt", "0.2", "--max-backoff", "1")
    proc.start()
    ros = None
    try:
        ros = RosClient(rosbridge.port, {c.CLOCK_TOPIC: c.CLOCK_TYPE}, {c.SIM_CMD_VEL_TOPIC: c.SIM_CMD_VEL_TYPE})
        answer = wait_service_answer(ros, c.SIM_RESET_SERVICE, timeout=120)
        start = stamp_to_ns(json.loads(answer["message"])["stamp"])

        def four_ticks(msgs: list[dict[str, Any]]) -> list[int] | None:
            ticks = sorted({stamp_ns(m) for m in msgs if stamp_ns(m) > start})
            return ticks[:4] if len(ticks) >= 4 else None

        later = ros.wait_messages(c.CLOCK_TOPIC, four_ticks, 60)
        assert np.all(np.diff([start, *later]) == 200_000_000)  # one clock tick per step of dt = 0.2 s, nobody calling
        with pytest.raises(roslibpy.core.ServiceException):  # no /ct1/sim/step in real-time mode (the server says so)
            call_service(ros, c.SIM_STEP_SERVICE, timeout=10)
    finally:
        if ros is not None:
            ros.close()
        proc.stop()
        rosbridge.stop()
    assert proc.proc.returncode == 0, proc.log()[-3000:]
