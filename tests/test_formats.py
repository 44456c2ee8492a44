"""Pose formats: round trips, hand-written files, cross-format conversion, bad files, atomic writes,
and the real peer files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from ct1_sim.clip_spec import IMAGE_SIZE, RATE_HZ
from ct1_sim.formats import (
    FORMATS,
    TrajectoryFormatError,
    convert_trajectory_file,
    guess_format,
    read_motionctrl,
    read_trajectory,
    trajectory_from_dict,
    trajectory_to_dict,
    write_ct1,
    write_realestate10k,
    write_trajectory,
)
from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov

PEER = Path(__file__).resolve().parents[2] / "shared" / "peer-data"
SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
IDENTITY_ROW = "1 0 0 0 0 1 0 0 0 0 1 0"


@st.composite
def trajectories(draw: st.DrawFn, rate_hz: float | None = None, centred: bool = False) -> CameraTrajectory:
    """Random rigid poses (translations within ±100 m), positive intrinsics, increasing µs timestamps
    (on the ``rate_hz`` grid from 0 when given)."""
    n = draw(st.integers(1, 20))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    c2w = np.tile(np.eye(4), (n, 1, 1))
    c2w[:, :3, :3] = Rotation.random(n, random_state=seed).as_matrix()
    c2w[:, :3, 3] = rng.uniform(-100, 100, size=(n, 3))
    w, h = draw(st.integers(16, 4096)), draw(st.integers(16, 4096))
    fx, fy = draw(st.floats(1.0, 5000.0)), draw(st.floats(1.0, 5000.0))
    if centred:
        cx, cy = w / 2, h / 2
    else:
        cx, cy = draw(st.floats(0.0, float(w))), draw(st.floats(0.0, float(h)))
    if rate_hz is not None:
        ts = np.round(np.arange(n) * 1e6 / rate_hz).astype(np.int64)
    else:
        ts = draw(st.integers(0, 10**15)) + np.cumsum(rng.integers(1, 10**6, size=n))
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    return CameraTrajectory(c2w=c2w, K=K, image_size=(w, h), timestamps_us=ts)


def assert_same(a: CameraTrajectory, b: CameraTrajectory, atol: float = 1e-6) -> None:
    """Equal image size and timestamps; poses (m) and K (px) within ``atol`` absolute (no relative slack,
    unlike ``CameraTrajectory.allclose``, whose ``np.allclose`` adds ``1e-5 * |value|``)."""
    assert a.image_size == b.image_size
    np.testing.assert_array_equal(a.timestamps_us, b.timestamps_us)
    np.testing.assert_allclose(a.c2w, b.c2w, rtol=0, atol=atol)
    np.testing.assert_allclose(a.K, b.K, rtol=0, atol=atol)


# ----------------------------------------------------------------------------- round trips (hypothesis)
@SETTINGS
@given(traj=trajectories())
def test_realestate10k_round_trip(tmp_path: Path, traj: CameraTrajectory) -> None:
    path = tmp_path / "re.txt"
    write_trajectory(traj, path, "realestate10k")
    back = read_trajectory(path, "realestate10k", image_size=traj.image_size)
    assert_same(back, traj)
    np.testing.assert_allclose(back.K, traj.K, rtol=1e-12, atol=1e-12)  # normalised intrinsics round-trip
    # the file itself holds world-to-camera rows and µs timestamps
    rows = np.loadtxt(path, skiprows=1, ndmin=2)
    np.testing.assert_allclose(rows[:, 7:].reshape(-1, 3, 4), traj.w2c[:, :3, :], atol=1e-9)
    assert rows[:, 0].astype(np.int64).tolist() == traj.timestamps_us.tolist()


@SETTINGS
@given(traj=trajectories())
def test_json_round_trip_is_exact(tmp_path: Path, traj: CameraTrajectory) -> None:
    path = tmp_path / "t.json"
    write_trajectory(traj, path, "json")
    back = read_trajectory(path, "json")
    assert back.image_size == traj.image_size
    np.testing.assert_array_equal(back.c2w, traj.c2w)
    np.testing.assert_array_equal(back.K, traj.K)
    np.testing.assert_array_equal(back.timestamps_us, traj.timestamps_us)
    assert trajectory_from_dict(json.loads(json.dumps(trajectory_to_dict(traj)))).allclose(traj, atol=0.0)


@SETTINGS
@given(data=st.data(), rate=st.sampled_from([RATE_HZ, 2.0, 10.0, 12.0, 30.0]))
def test_ct1_round_trip(tmp_path: Path, data: st.DataObject, rate: float) -> None:
    traj = data.draw(trajectories(rate_hz=rate))
    path = tmp_path / "ct1.txt"
    write_trajectory(traj, path, "ct1")
    assert_same(read_trajectory(path, "ct1", image_size=traj.image_size, rate_hz=rate), traj)
    # with a principal point at the image centre the size is inferred; at 5 Hz the rate is the default
    centred = data.draw(trajectories(rate_hz=RATE_HZ, centred=True))
    write_trajectory(centred, path, "ct1")
    assert_same(read_trajectory(path, "ct1"), centred)


@SETTINGS
@given(data=st.data(), rate=st.sampled_from([RATE_HZ, 10.0, 12.0]))
def test_motionctrl_round_trip_is_relative_to_first(tmp_path: Path, data: st.DataObject, rate: float) -> None:
    traj = data.draw(trajectories(rate_hz=rate))
    path = tmp_path / "m.json"
    write_trajectory(traj, path, "motionctrl")
    back = read_motionctrl(path, image_size=traj.image_size, rate_hz=rate, K=traj.K)
    assert_same(back, traj.relative_to_first())
    np.testing.assert_array_equal(back.c2w[0], np.eye(4))
    # the rows are w2c_i @ c2w_0: R_rel = R_i R_0^T, t_rel = t_i - R_rel t_0 (R, t world-to-camera)
    rows = np.array(json.loads(path.read_text())).reshape(-1, 3, 4)
    R, t = traj.w2c[:, :3, :3], traj.w2c[:, :3, 3]
    R_rel = R @ R[0].T
    np.testing.assert_allclose(rows[:, :, :3], R_rel, atol=1e-9)
    np.testing.assert_allclose(rows[:, :, 3], t - R_rel @ t[0], atol=1e-6)


# ----------------------------------------------------------------------------- hand-written files
# A camera at world [2, 0, 0] looking along world -x (y down): c2w columns x=[0,0,1], y=[0,1,0], z=[-1,0,0];
# world-to-camera R = [[0,0,1],[0,1,0],[-1,0,0]], t = -R C = [0, 0, 2] (the origin is 2 m ahead).
LOOK_MINUS_X_ROW = "0 0 1 0 0 1 0 0 -1 0 0 2"
LOOK_MINUS_X_C2W = np.array([[0, 0, -1, 2], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1.0]])


def test_hand_written_realestate10k(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "re.txt"
    path.write_text(
        "https://www.youtube.com/watch?v=abc\n"
        f"1000 0.5 0.875 0.5 0.5 0 0 {IDENTITY_ROW}\n"
        "1500 0.5 0.875 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 -1\n"  # 1 m forward: w2c t = [0,0,-1]
        f"\n2000 0.5 0.875 0.5 0.5 0 0 {LOOK_MINUS_X_ROW}\n"
    )
    t = read_trajectory(path, "realestate10k", image_size=(448, 256))
    np.testing.assert_allclose(t.positions, [[0, 0, 0], [0, 0, 1], [2, 0, 0]], atol=1e-12)
    np.testing.assert_allclose(t.c2w[2], LOOK_MINUS_X_C2W, atol=1e-12)
    np.testing.assert_allclose(t.K, [[224, 0, 224], [0, 224, 128], [0, 0, 1]])
    assert t.timestamps_us.tolist() == [1000, 1500, 2000]
    with caplog.at_level(logging.WARNING, logger="ct1_sim.formats"):
        d = read_trajectory(path, "realestate10k")  # no size: the default, with a warning saying so
    assert d.image_size == IMAGE_SIZE == (448, 256)
    assert "448x256" in caplog.text and "--width/--height" in caplog.text
    assert guess_format(path) == "realestate10k" and read_trajectory(path).allclose(d)
    write_realestate10k(t, path)
    assert path.read_text().splitlines()[0] == "# ct1-sim"
    write_realestate10k(t, path, url="https://www.youtube.com/watch?v=abc")
    assert path.read_text().splitlines()[0] == "https://www.youtube.com/watch?v=abc"
    assert_same(read_trajectory(path, image_size=(448, 256)), t)


def test_hand_written_ct1_with_and_without_header(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    body = (
        f"0 288.0 512.0 256.0 256.0 0.0 0.0 {IDENTITY_ROW} \n"  # trailing spaces, as in the authors' files
        f"1 288.0 512.0 256.0 256.0 0.0 0.0 {LOOK_MINUS_X_ROW}  \n"
    )
    for name, text in (("plain.txt", body), ("header.txt", "case 1: predicted path\n" + body)):
        path = tmp_path / name
        path.write_text(text)
        with caplog.at_level(logging.INFO, logger="ct1_sim.formats"):
            t = read_trajectory(path, "ct1")
        assert "inferred 512x512" in caplog.text
        assert t.image_size == (512, 512) and len(t) == 2
        np.testing.assert_allclose(t.K, [[288, 0, 256], [0, 512, 256], [0, 0, 1]])
        np.testing.assert_allclose(t.c2w[1], LOOK_MINUS_X_C2W, atol=1e-12)
        assert t.timestamps_us.tolist() == [0, 200_000]  # index / 5 Hz
        at_10hz = read_trajectory(path, "ct1", rate_hz=10.0, image_size=(640, 480))
        assert at_10hz.timestamps_us.tolist() == [0, 100_000]
        with pytest.raises(TrajectoryFormatError, match="same microsecond") as info:
            read_trajectory(path, "ct1", rate_hz=3e6)  # index / rate rounds both poses to 0 µs
        assert info.value.line == text.split("\n").index(body.split("\n")[1]) + 1
        assert read_trajectory(path, "ct1", image_size=(640, 480)).image_size == (640, 480)
        assert guess_format(path) == "ct1"
    # the writer: index 0..T-1, pixel intrinsics, no header unless asked
    out = tmp_path / "out.txt"
    write_trajectory(t, out, "ct1")
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and lines[1].split()[:5] == ["1", "288.0", "512.0", "256.0", "256.0"]
    np.testing.assert_allclose(
        [float(v) for v in lines[1].split()[7:]], [float(v) for v in LOOK_MINUS_X_ROW.split()]
    )
    write_ct1(t, out, header="case 1: predicted path")
    assert out.read_text().splitlines()[0] == "case 1: predicted path"
    assert_same(read_trajectory(out, "ct1"), t)


def test_hand_written_motionctrl(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps([[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, -3]]))
    t = read_trajectory(path)  # a JSON list: MotionCtrl
    np.testing.assert_allclose(t.positions, [[0, 0, 0], [0, 0, 3]])
    assert t.image_size == IMAGE_SIZE
    np.testing.assert_allclose(t.K, intrinsics_from_fov(448, 256, 64.0))
    assert t.timestamps_us.tolist() == [0, 200_000]
    assert read_trajectory(path, "motionctrl", hfov_deg=90.0, image_size=(100, 50)).K[0, 0] == pytest.approx(
        50.0
    )
    # writing: camera 0 at [2,0,0] looking along -x, camera 1 two metres further along its view (world origin)
    c1 = LOOK_MINUS_X_C2W.copy()
    c1[:3, 3] = 0.0
    traj = CameraTrajectory(
        c2w=np.stack([LOOK_MINUS_X_C2W, c1]),
        K=intrinsics_from_fov(448, 256, 64.0),
        image_size=(448, 256),
        timestamps_us=np.array([0, 200_000]),
    )
    write_trajectory(traj, path, "motionctrl")
    rows = json.loads(path.read_text())
    np.testing.assert_allclose(
        rows, [[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, -2]], atol=1e-12
    )


def test_hand_written_json(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    doc = {
        "convention": "opencv",
        "units": "m",
        "image_size": [640, 480],
        "K": [[500, 0, 320], [0, 500, 240], [0, 0, 1]],
        "timestamps_us": [10, 20],
        "c2w": [np.eye(4).tolist(), LOOK_MINUS_X_C2W.tolist()],
    }
    path.write_text(json.dumps(doc))
    t = read_trajectory(path)
    assert t.image_size == (640, 480) and t.timestamps_us.tolist() == [10, 20]
    np.testing.assert_allclose(t.w2c[1][:3, 3], [0, 0, 2])
    assert trajectory_to_dict(t) == {
        **doc,
        "K": [[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]],
        "c2w": [np.eye(4).tolist(), LOOK_MINUS_X_C2W.tolist()],
    }
    for field, value in (("convention", "opengl"), ("units", "mm")):
        with pytest.raises(ValueError, match=f"{field} is '{value}'"):
            trajectory_from_dict({**doc, field: value})


# ----------------------------------------------------------------------------- cross-format
def test_realestate10k_through_every_format_keeps_the_relative_path(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    c2w = np.tile(np.eye(4), (6, 1, 1))
    c2w[:, :3, :3] = Rotation.random(6, random_state=1).as_matrix()
    c2w[:, :3, 3] = rng.uniform(-20, 20, size=(6, 3))
    src = CameraTrajectory(
        c2w=c2w,
        K=np.array([[300.0, 0, 224], [0, 310, 128], [0, 0, 1]]),
        image_size=(448, 256),
        timestamps_us=np.arange(6) * 200_000,
    )
    first = tmp_path / "src.txt"
    write_trajectory(src, first, "realestate10k")
    reference = src.relative_to_first().c2w
    for fmt in ("ct1", "motionctrl", "json"):
        mid = tmp_path / f"mid_{fmt}.{'txt' if fmt == 'ct1' else 'json'}"
        convert_trajectory_file(first, mid, "realestate10k", fmt, image_size=(448, 256))
        assert guess_format(mid) == fmt
        back_path = tmp_path / f"back_{fmt}.txt"
        convert_trajectory_file(mid, back_path, None, "realestate10k", image_size=(448, 256))
        back = read_trajectory(back_path, "realestate10k", image_size=(448, 256))
        np.testing.assert_allclose(back.relative_to_first().c2w, reference, atol=1e-9, err_msg=fmt)
        assert back.timestamps_us.tolist() == src.timestamps_us.tolist()
        if fmt != "motionctrl":  # motionctrl stores no intrinsics
            np.testing.assert_allclose(back.K, src.K, rtol=1e-12, err_msg=fmt)


# ----------------------------------------------------------------------------- bad files
P = "0.5 0.8 0.5 0.5 0 0"  # normalised intrinsics + the two unused columns
PX = "288 512 256 256 0 0"  # pixel intrinsics
BAD_FILES = [
    # (format, text, line, message fragment)
    (
        "realestate10k",
        f"url\n0 {P} {IDENTITY_ROW}\n1 {P} 1 0 0 0 0 1 0 0 0 0 1\n",
        3,
        "expected 19 columns but got 18",
    ),
    ("realestate10k", f"url\n0 {P} 1 0 0 0 0 1 0 0 0 0 1 abc\n", 2, "'abc'"),
    ("realestate10k", f"url\n0 {P} 1 0 0 0 0 1 0 0 0 0 1 nan\n", 2, "NaN or inf"),
    ("realestate10k", f"url\n0 {P} {IDENTITY_ROW}\n1 {P} 1 0 0 0 0 1 0 0 0 0 1 inf\n", 3, "NaN or inf"),
    (
        "realestate10k",
        f"url\n0 {P} {IDENTITY_ROW}\n1 {P} 2 0 0 0 0 1 0 0 0 0 1 0\n",
        3,
        "not a rigid transform",
    ),
    ("realestate10k", f"url\n5 {P} {IDENTITY_ROW}\n\n5 {P} {IDENTITY_ROW}\n", 4, "must strictly increase"),
    ("realestate10k", f"url\n9 {P} {IDENTITY_ROW}\n3 {P} {IDENTITY_ROW}\n", 3, "does not come after 9"),
    (
        "realestate10k",
        f"url\n0 {P} {IDENTITY_ROW}\n1 0.6 0.8 0.5 0.5 0 0 {IDENTITY_ROW}\n",
        3,
        "one K per trajectory",
    ),
    ("realestate10k", f"url\n0.5 {P} {IDENTITY_ROW}\n", 2, "not a whole number"),
    ("realestate10k", f"url\n0 -0.5 0.8 0.5 0.5 0 0 {IDENTITY_ROW}\n", 2, "focal lengths must be positive"),
    ("realestate10k", "", None, "empty"),
    ("realestate10k", "https://www.youtube.com/watch?v=abc\n", None, "no pose lines"),
    ("ct1", f"header\n0 {PX} {IDENTITY_ROW}\n1 {PX} 1 0 0 0\n", 3, "expected 19 columns but got 11"),
    (
        "ct1",
        f"0 {PX} 1 0 0 0 0 1 0 0 0 0 1\n",
        1,
        "expected 19 columns but got 18",
    ),  # a broken line, not a header
    (
        "ct1",
        f"0 {PX} {IDENTITY_ROW}\n1 {PX} -1 0 0 0 0 1 0 0 0 0 1 0 \n",
        2,
        "not a rigid transform",
    ),  # mirrored
    ("ct1", f"0 {PX} {IDENTITY_ROW}\n0 {PX} {IDENTITY_ROW}\n", 2, "frame index 0 does not come after 0"),
    ("ct1", f'0 {PX} {IDENTITY_ROW}\n1 {PX} 1 0 0 0 0 1 0 0 0 0 1 "0"\n', 2, "'\"0\"'"),
    ("ct1", "   \n\n", None, "empty"),
    (
        "motionctrl",
        "[\n [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],\n [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]\n]",
        3,
        "list of 12 numbers",
    ),
    (
        "motionctrl",
        '[\n [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],\n\n [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, "x"]\n]',
        4,
        "must be a number",
    ),
    ("motionctrl", "[\n [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, NaN]\n]", 2, "NaN or inf"),
    (
        "motionctrl",
        "[\n [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],\n [3, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]\n]",
        3,
        "not a rigid transform",
    ),
    ("motionctrl", "[\n [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],\n [1, 0, 0, 0 0, 1]\n]", 3, "not valid JSON"),
    ("motionctrl", '{"poses": []}', 1, "must be a MotionCtrl JSON list"),
    ("motionctrl", "[]", 1, "got a list of 0"),
    ("json", '{\n "convention": "opengl",\n "units": "m"\n}', 2, "convention is 'opengl'"),
    ("json", '{\n "convention": "opencv",\n "units": "cm"\n}', 3, "units is 'cm'"),
    (
        "json",
        '{\n "image_size": [4, 4],\n "K": [[1, 0, 2], [0, 1, 2], [0, 0, 1]]\n}',
        1,
        "missing field(s) timestamps_us, c2w",
    ),
    (
        "json",
        (
            '{"image_size": [4, 4], "K": [[1, 0, 2], [0, 1, 2], [0, 0, 1]],\n "timestamps_us": [0, 5, 5],\n'
            ' "c2w": []}'
        ),
        2,
        "timestamps_us[2] = 5 does not come after 5",
    ),
    (
        "json",
        (
            '{"image_size": [4, 4], "K": [[1, 0, 2], [0, 1, 2], [0, 0, 1]], "timestamps_us": [0, 1],\n "c2w": [\n'
            f"  {np.eye(4).tolist()},\n  {np.diag([1, 1, 2, 1.0]).tolist()}\n ]\n}}"
        ),
        4,
        "c2w[1] is not a rigid transform",
    ),
    (
        "json",
        (
            '{"image_size": [4, 4],\n "K": [[1, 0, 2], [0, 1, 2], [0, 0, 1]],\n "timestamps_us": [0],\n "c2w": [\n'
            f"  {np.eye(4).tolist()},\n  {np.eye(4).tolist()}\n ]\n}}"
        ),
        4,
        "c2w has 2 poses but timestamps_us has 1",
    ),
    (
        "json",
        '{"image_size": [4, 4], "timestamps_us": [0], "c2w": [],\n "K": [[1, 0, 2],\n  [0, 1, 2],\n  [0, 0, "one"]]}',
        4,
        "K[2][2] must be a number",
    ),
    ("json", '{\n "c2w": [}', 2, "not valid JSON"),
]


@pytest.mark.parametrize(("fmt", "text", "line", "fragment"), BAD_FILES)
def test_bad_files_say_where_and_what(
    tmp_path: Path, fmt: str, text: str, line: int | None, fragment: str
) -> None:
    path = tmp_path / "bad.dat"
    path.write_text(text)
    with pytest.raises(TrajectoryFormatError) as info:
        read_trajectory(path, fmt, image_size=(448, 256))
    message = str(info.value)
    assert fragment in message
    assert info.value.line == line and info.value.path == path
    assert message.startswith(f"{path}:{line}: " if line is not None else f"{path}: ")


def test_missing_file_unknown_format_and_undecidable_content(tmp_path: Path) -> None:
    with pytest.raises(TrajectoryFormatError, match="no such file") as info:
        read_trajectory(tmp_path / "missing.txt", "ct1")
    assert str(tmp_path / "missing.txt") in str(info.value)
    with pytest.raises(TrajectoryFormatError, match="no such file"):
        read_trajectory(tmp_path / "missing.txt")  # guessing does not hide it
    (tmp_path / "t.txt").write_text(f"0 {PX} {IDENTITY_ROW}\n")
    with pytest.raises(
        TrajectoryFormatError,
        match="unknown pose format 'colmap'; use one of: realestate10k, ct1, motionctrl, json",
    ):
        read_trajectory(tmp_path / "t.txt", "colmap")
    traj = read_trajectory(tmp_path / "t.txt")
    with pytest.raises(TrajectoryFormatError, match="unknown pose format"):
        write_trajectory(traj, tmp_path / "o.txt", "colmap")
    (tmp_path / "notes.txt").write_text("hello\nworld\n")
    with pytest.raises(TrajectoryFormatError, match="cannot tell the pose format"):
        read_trajectory(tmp_path / "notes.txt")


# ----------------------------------------------------------------------------- atomic writes
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failed_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, failing: str
) -> None:
    traj = CameraTrajectory(
        c2w=np.stack([np.eye(4), LOOK_MINUS_X_C2W]),
        K=intrinsics_from_fov(448, 256, 64.0),
        image_size=(448, 256),
        timestamps_us=np.array([0, 200_000]),
    )
    dst = tmp_path / "out.dat"
    dst.write_text("precious\n")

    def boom(*args: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(f"ct1_sim.atomic_files.os.{failing}", boom)
        with pytest.raises(OSError, match="disk full"):
            write_trajectory(traj, dst, fmt)
    assert dst.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.dat"]  # no temp file left behind
    write_trajectory(traj, dst, fmt)  # and without the failure the file is replaced
    assert_same(
        read_trajectory(dst, fmt, image_size=(448, 256)),
        traj.relative_to_first() if fmt == "motionctrl" else traj,
    )


def test_failed_conversion_keeps_the_old_file(tmp_path: Path) -> None:
    dst = tmp_path / "keep.json"
    dst.write_text("precious\n")
    (tmp_path / "bad.txt").write_text(f"url\n0 {P} 1 0 0\n")
    with pytest.raises(TrajectoryFormatError, match="bad.txt:2:"):
        convert_trajectory_file(tmp_path / "bad.txt", dst, "realestate10k", "json")
    with pytest.raises(TrajectoryFormatError, match="unknown pose format"):
        convert_trajectory_file(tmp_path / "bad.txt", dst, "realestate10k", "yaml")
    assert dst.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt", "keep.json"]


# ----------------------------------------------------------------------------- real files from peer projects
def test_reads_the_real_peer_files_as_they_are() -> None:
    if not PEER.is_dir():
        pytest.skip(f"peer pose files not found at {PEER} (they sit in shared/peer-data beside the checkout)")
    cameractrl, ct1 = sorted((PEER / "cameractrl").glob("*.txt")), sorted((PEER / "ct1").glob("*.txt"))
    assert cameractrl and ct1
    for path in cameractrl:
        traj = read_trajectory(path, "realestate10k", image_size=(1280, 720))
        assert len(traj) == 16 and traj.image_size == (1280, 720)
        rows = np.loadtxt(path, skiprows=1)  # an independent parse of the same numbers
        assert traj.timestamps_us.tolist() == rows[:, 0].astype(np.int64).tolist()
        np.testing.assert_allclose(traj.K[[0, 1, 0, 1], [0, 1, 2, 2]], rows[0, 1:5] * [1280, 720, 1280, 720])
        np.testing.assert_allclose(traj.w2c[:, :3, :], rows[:, 7:].reshape(-1, 3, 4), atol=1e-6)
        assert guess_format(path) == "realestate10k"
        assert read_trajectory(path).image_size == IMAGE_SIZE
    for path in ct1:
        traj = read_trajectory(path, "ct1")
        assert len(traj) == 73 and traj.image_size == (512, 512)
        np.testing.assert_allclose(traj.K, [[288, 0, 256], [0, 512, 256], [0, 0, 1]])
        assert traj.timestamps_us.tolist() == [i * 200_000 for i in range(73)]
        rows = np.loadtxt(path)
        np.testing.assert_allclose(traj.w2c[:, :3, :], rows[:, 7:].reshape(-1, 3, 4), atol=1e-6)
        assert guess_format(path) == "ct1" and read_trajectory(path).allclose(traj)
