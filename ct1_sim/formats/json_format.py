"""ct1-sim's own JSON trajectory: lossless and self-describing.

``{"convention": "opencv", "units": "m", "image_size": [W, H], "K": [[3x3]], "timestamps_us": [...],
"c2w": [[[4x4]], ...]}``: camera-to-world poses, OpenCV camera axes (x right, y down, z forward), metres;
``K`` in pixels for ``image_size`` (px); integer microsecond timestamps. ``convention`` and ``units`` may be
left out (they default to ``opencv`` and ``m``); any other value is rejected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ct1_sim.atomic_files import write_text_atomic
from ct1_sim.formats._text import JsonFieldError, json_numbers, line_of, load_json
from ct1_sim.formats.errors import TrajectoryFormatError
from ct1_sim.geometry import CameraTrajectory, check_image_size, check_intrinsics, check_poses

CONVENTION = "opencv"
UNITS = "m"
FIELDS = ("image_size", "K", "timestamps_us", "c2w")
EXPECTED = (
    'a ct1-sim trajectory JSON object {"convention", "units", "image_size", "K", "timestamps_us", "c2w"}'
)


def trajectory_to_dict(traj: CameraTrajectory) -> dict[str, Any]:
    """JSON-ready dict of ``traj`` (plain lists and ints; floats at full precision)."""
    return {
        "convention": CONVENTION,
        "units": UNITS,
        "image_size": [int(v) for v in traj.image_size],
        "K": traj.K.tolist(),
        "timestamps_us": [int(t) for t in traj.timestamps_us],
        "c2w": traj.c2w.tolist(),
    }


def trajectory_from_dict(data: Any) -> CameraTrajectory:
    """Inverse of :func:`trajectory_to_dict`; raises ``ValueError`` naming the bad field and what to fix.

    (The raised error is a :class:`JsonFieldError` whose ``key`` is the path of the bad value.)
    """
    if not isinstance(data, dict):
        raise JsonFieldError((), f"expected {EXPECTED}, got a JSON {type(data).__name__}")
    for field, want in (("convention", CONVENTION), ("units", UNITS)):
        if data.get(field, want) != want:
            raise JsonFieldError(
                (field,),
                f"{field} is {data[field]!r} but ct1-sim reads only {want!r}"
                + (" (camera x right, y down, z forward)" if field == "convention" else " (metres)")
                + "; convert the poses first",
            )
    missing = [f for f in FIELDS if f not in data]
    if missing:
        raise JsonFieldError((), f"missing field(s) {', '.join(missing)}; expected {EXPECTED}")
    size = data["image_size"]
    if (
        not isinstance(size, list)
        or len(size) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) for v in size)
    ):
        raise JsonFieldError(
            ("image_size",), f"image_size must be [W, H] in whole pixels, got {json.dumps(size)[:40]}"
        )
    try:
        size = check_image_size(size)
    except ValueError as err:
        raise JsonFieldError(("image_size",), str(err)) from None
    K = json_numbers(data["K"], (3, 3), ("K",), "a 3x3 list of numbers")
    try:
        check_intrinsics(K)
    except ValueError as err:
        raise JsonFieldError(("K",), str(err)) from None
    ts = data["timestamps_us"]
    if not isinstance(ts, list) or not ts:
        raise JsonFieldError(
            ("timestamps_us",), "timestamps_us must be a non-empty list of integer microseconds"
        )
    for i, t in enumerate(ts):
        if isinstance(t, bool) or not isinstance(t, int) or not -(2**63) <= t < 2**63:
            raise JsonFieldError(
                ("timestamps_us", i), f"timestamps_us[{i}] must be integer microseconds (int64), got {t!r}"
            )
        if i and t <= ts[i - 1]:
            raise JsonFieldError(
                ("timestamps_us", i),
                f"timestamps_us[{i}] = {t} does not come after {ts[i - 1]}; they must strictly increase",
            )
    c2w = json_numbers(
        data["c2w"], (None, 4, 4), ("c2w",), "a non-empty list of 4x4 camera-to-world matrices"
    )
    if len(c2w) != len(ts):
        raise JsonFieldError(
            ("c2w",), f"c2w has {len(c2w)} poses but timestamps_us has {len(ts)}; give one time per pose"
        )
    for i in range(len(c2w)):
        try:
            check_poses(c2w[i : i + 1], "@")
        except ValueError as err:
            raise JsonFieldError(("c2w", i), str(err).replace("@[0]", f"c2w[{i}]")) from None
    return CameraTrajectory(c2w=c2w, K=K, image_size=size, timestamps_us=np.array(ts, dtype=np.int64))


def read_json(path: str | Path) -> CameraTrajectory:
    """Read a ct1-sim trajectory JSON file; errors name the line of the bad value."""
    path = Path(path)
    data, text = load_json(path, EXPECTED)
    try:
        return trajectory_from_dict(data)
    except JsonFieldError as err:
        raise TrajectoryFormatError(path, str(err), line=line_of(text, err.key)) from None


def write_json(traj: CameraTrajectory, path: str | Path) -> None:
    """Write ``traj`` atomically as ct1-sim JSON, one pose per line."""
    d = trajectory_to_dict(traj)
    head = ",\n".join(
        f" {json.dumps(k)}: {json.dumps(d[k])}"
        for k in ("convention", "units", "image_size", "K", "timestamps_us")
    )
    poses = ",\n".join(f"  {json.dumps(p)}" for p in d["c2w"])
    write_text_atomic(path, "{\n" + head + ',\n "c2w": [\n' + poses + "\n ]\n}\n")
