"""Pose-file formats (numpy only): RealEstate10K (CameraCtrl), CT-1 text, MotionCtrl JSON and ct1-sim JSON.

Every reader returns a :class:`~ct1_sim.geometry.CameraTrajectory` (camera-to-world, OpenCV axes, metres)
and raises :class:`TrajectoryFormatError` (``path:line: what; fix``) for a bad file. Every writer writes
atomically (a temp file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ct1_sim.formats._text import is_pose_line, read_text
from ct1_sim.formats.ct1_text import read_ct1, write_ct1
from ct1_sim.formats.errors import TrajectoryFormatError
from ct1_sim.formats.json_format import read_json, trajectory_from_dict, trajectory_to_dict, write_json
from ct1_sim.formats.motionctrl import read_motionctrl, write_motionctrl
from ct1_sim.formats.realestate10k import read_realestate10k, write_realestate10k
from ct1_sim.geometry import CameraTrajectory

log = logging.getLogger(__name__)

FORMATS = ("realestate10k", "ct1", "motionctrl", "json")
#: The file suffix of each format, one per format so that files of several formats share a folder and a stem
#: (``sample_00.json``, ``sample_00.ct1.txt``). Readers do not rely on it: :func:`guess_format` reads the content.
FORMAT_SUFFIXES = {"realestate10k": ".txt", "ct1": ".ct1.txt", "motionctrl": ".motionctrl.json", "json": ".json"}


def pose_file_stem(path: str | Path) -> str:
    """The name of a pose file without its format suffix (``drive.ct1.txt`` -> ``drive``, longest suffix first), so
    an export of it names its own suffix once."""
    name = Path(path).name
    for suffix in sorted(FORMAT_SUFFIXES.values(), key=len, reverse=True):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return Path(name).stem

#: A pixel focal length is larger than this; a normalised one (fx / W) is not (hfov > ~14 deg).
_PIXEL_FX = 4.0


def check_format(fmt: str, path: str | Path) -> str:
    """``fmt`` lower-cased if it is one of :data:`FORMATS`, else ``TrajectoryFormatError``."""
    name = str(fmt).lower()
    if name not in FORMATS:
        raise TrajectoryFormatError(path, f"unknown pose format {fmt!r}", f"use one of: {', '.join(FORMATS)}")
    return name


def guess_format(path: str | Path) -> str:
    """Guess a file's format: ``.json`` -> ``json`` (``motionctrl`` if the top level is a list); ``.txt`` ->
    ``ct1`` if the first pose line's fx is in pixels (> 4) else ``realestate10k``. Other extensions are
    guessed the same way from the content."""
    path = Path(path)
    text = read_text(path, f"a pose file in one of: {', '.join(FORMATS)}")
    suffix = path.suffix.lower()
    if suffix == ".json" or (suffix != ".txt" and text.lstrip()[:1] in ("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise TrajectoryFormatError(
                path, f"not valid JSON ({err.msg})", "fix the file or pass the format", line=err.lineno
            ) from None
        return "motionctrl" if isinstance(data, list) else "json"
    for line in text.split("\n"):
        if is_pose_line(line):
            return "ct1" if float(line.split()[1]) > _PIXEL_FX else "realestate10k"
    raise TrajectoryFormatError(
        path,
        "cannot tell the pose format: no line of 19 numbers",
        f"pass the format, one of: {', '.join(FORMATS)}",
    )


def read_trajectory(
    path: str | Path,
    fmt: str | None = None,
    *,
    image_size: tuple[int, int] | None = None,
    rate_hz: float | None = None,
    hfov_deg: float | None = None,
) -> CameraTrajectory:
    """Read a pose file in ``fmt`` (guessed by :func:`guess_format` when None).

    ``image_size (W,H)`` px is used by formats without a pixel size (realestate10k, ct1, motionctrl),
    ``rate_hz`` by formats without timestamps (ct1, motionctrl), ``hfov_deg`` by motionctrl; ``None`` means
    the clip spec's value (:mod:`ct1_sim.clip_spec`). Options a format does not use are ignored.
    """
    name = check_format(fmt, path) if fmt is not None else guess_format(path)
    if name == "realestate10k":
        return read_realestate10k(path, image_size)
    if name == "ct1":
        return read_ct1(path, image_size, rate_hz)
    if name == "motionctrl":
        return read_motionctrl(path, image_size, rate_hz, hfov_deg)
    if any(v is not None for v in (image_size, rate_hz, hfov_deg)):
        log.debug("%s: ct1-sim JSON has its own image size and timestamps; options ignored", path)
    return read_json(path)


def write_trajectory(traj: CameraTrajectory, path: str | Path, fmt: str) -> None:
    """Write ``traj`` to ``path`` in ``fmt``, atomically (an existing file is replaced only on success)."""
    writer = {
        "realestate10k": write_realestate10k,
        "ct1": write_ct1,
        "motionctrl": write_motionctrl,
        "json": write_json,
    }
    writer[check_format(fmt, path)](traj, path)


def convert_trajectory_file(
    src: str | Path,
    dst: str | Path,
    src_fmt: str | None,
    dst_fmt: str,
    image_size: tuple[int, int] | None = None,
    rate_hz: float | None = None,
    *,
    hfov_deg: float | None = None,
) -> CameraTrajectory:
    """Read ``src`` as ``src_fmt`` (None: guess) and write it to ``dst`` as ``dst_fmt``; return the trajectory.

    ``image_size``/``rate_hz``/``hfov_deg`` are as in :func:`read_trajectory` (the CLI's ``--width/--height``
    and ``--fps``). ``dst`` is untouched when anything fails.
    """
    dst_name = check_format(dst_fmt, dst)
    traj = read_trajectory(src, src_fmt, image_size=image_size, rate_hz=rate_hz, hfov_deg=hfov_deg)
    write_trajectory(traj, dst, dst_name)
    log.info("converted %s -> %s (%s, %d poses)", src, dst, dst_name, len(traj))
    return traj


__all__ = [
    "FORMATS",
    "FORMAT_SUFFIXES",
    "TrajectoryFormatError",
    "check_format",
    "convert_trajectory_file",
    "guess_format",
    "pose_file_stem",
    "read_ct1",
    "read_json",
    "read_motionctrl",
    "read_realestate10k",
    "read_trajectory",
    "trajectory_from_dict",
    "trajectory_to_dict",
    "write_ct1",
    "write_json",
    "write_motionctrl",
    "write_realestate10k",
    "write_trajectory",
]
