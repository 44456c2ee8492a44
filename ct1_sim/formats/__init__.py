"""Pose-file formats: RealEstate10K (CameraCtrl), CT-1 text, MotionCtrl JSON and ct1-sim JSON."""

from __future__ import annotations

from pathlib import Path

from ct1_sim.formats.ct1_text import read_ct1, write_ct1
from ct1_sim.formats.errors import TrajectoryFormatError
from ct1_sim.formats.json_format import read_json, trajectory_from_dict, trajectory_to_dict, write_json
from ct1_sim.formats.motionctrl import read_motionctrl, write_motionctrl
from ct1_sim.formats.realestate10k import read_realestate10k, write_realestate10k
from ct1_sim.geometry import CameraTrajectory

FORMATS = ("realestate10k", "ct1", "motionctrl", "json")


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown trajectory format {fmt!r}; use one of {', '.join(FORMATS)}")
    return fmt


def guess_format(path: str | Path) -> str:
    """Guess from the content: a JSON object -> json, a JSON list -> motionctrl, text with pixel fx -> ct1."""
    path = Path(path)
    text = path.read_text() if path.is_file() else ""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "json"
    if stripped.startswith("["):
        return "motionctrl"
    for line in text.splitlines():
        tokens = line.split()
        if len(tokens) == 19:
            try:
                return "ct1" if float(tokens[1]) > 4.0 else "realestate10k"
            except ValueError:
                continue
    raise TrajectoryFormatError(path, f"cannot tell the pose format; pass one of {', '.join(FORMATS)}")


def read_trajectory(
    path: str | Path,
    fmt: str | None = None,
    *,
    image_size: tuple[int, int] | None = None,
    rate_hz: float | None = None,
    hfov_deg: float | None = None,
) -> CameraTrajectory:
    """Read a pose file (``fmt`` guessed from the content when None)."""
    fmt = _check_format(fmt) if fmt is not None else guess_format(path)
    if fmt == "realestate10k":
        return read_realestate10k(path, image_size)
    if fmt == "ct1":
        return read_ct1(path, image_size, rate_hz)
    if fmt == "motionctrl":
        return read_motionctrl(path, image_size, rate_hz, hfov_deg)
    return read_json(path)


def write_trajectory(traj: CameraTrajectory, path: str | Path, fmt: str) -> None:
    """Write ``traj`` to ``path`` in ``fmt`` (atomically)."""
    fmt = _check_format(fmt)
    {"realestate10k": write_realestate10k, "ct1": write_ct1, "motionctrl": write_motionctrl, "json": write_json}[fmt](traj, path)


def convert_trajectory_file(
    src: str | Path,
    dst: str | Path,
    src_fmt: str,
    dst_fmt: str,
    image_size: tuple[int, int] | None = None,
    rate_hz: float | None = None,
) -> CameraTrajectory:
    """Read ``src`` as ``src_fmt`` and write it to ``dst`` as ``dst_fmt``; returns the trajectory."""
    _check_format(dst_fmt)
    traj = read_trajectory(src, src_fmt, image_size=image_size, rate_hz=rate_hz)
    write_trajectory(traj, dst, dst_fmt)
    return traj


__all__ = [
    "FORMATS", "TrajectoryFormatError", "convert_trajectory_file", "guess_format", "read_trajectory", "trajectory_from_dict",
    "trajectory_to_dict", "write_trajectory",
]
