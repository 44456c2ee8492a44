"""Request checks that answer 422 with a message naming the field (and 413 for oversized uploads)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from fastapi import HTTPException, UploadFile

from ct1_sim.clip_spec import check_speed_mps
from ct1_sim.formats import FORMAT_SUFFIXES, FORMATS, read_trajectory
from ct1_sim.geometry import CameraTrajectory
from ct1_sim.language import InstructionError, check_instruction_text
from ct1_sim.rgb_input import ImageDecodeError, decode_image


def unprocessable(field: str, message: str) -> HTTPException:
    """A 422 whose detail names ``field``."""
    return HTTPException(status_code=422, detail={"field": field, "message": f"{field}: {message}"})


async def read_upload(upload: UploadFile, field: str, limit: int) -> bytes:
    """The upload's bytes; 413 when larger than ``limit``, 422 when empty."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(status_code=413, detail={"field": field, "message": f"{field}: larger than {limit} bytes"})
    if not data:
        raise unprocessable(field, "the uploaded file is empty")
    return data


def decode_upload(data: bytes, field: str) -> np.ndarray:
    """RGB uint8 ``(H,W,3)`` from uploaded JPEG/PNG bytes, or 422 naming the problem."""
    try:
        return decode_image(data, name="the upload", min_side=16)
    except ImageDecodeError as err:
        raise unprocessable(field, str(err)) from None


def check_instruction(text: str | None, field: str = "instruction") -> str:
    """The instruction cleaned by :func:`ct1_sim.language.check_instruction_text`, or 422 naming the problem."""
    if text is None:
        raise unprocessable(field, "must be a non-empty instruction, e.g. 'turn left at the intersection'")
    try:
        return check_instruction_text(text, name="the instruction")
    except InstructionError as err:
        raise unprocessable(field, str(err)) from None


def check_int(value: int, field: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise unprocessable(field, f"must be between {low} and {high} (got {value})")
    return value


def check_speed(value: float | None) -> float | None:
    """The ego speed (m/s) when in the clip spec's range, or 422."""
    try:
        return check_speed_mps(value, name="value")
    except ValueError as err:
        raise unprocessable("speed", str(err)) from None


def parse_trajectory(data: bytes, fmt: str, field: str = "trajectory") -> CameraTrajectory:
    """A trajectory from uploaded pose-file bytes in ``fmt`` (the project's readers, no unpickling)."""
    if fmt not in FORMATS:
        raise unprocessable("format", f"unknown pose format {fmt!r}; use one of {', '.join(FORMATS)}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{FORMAT_SUFFIXES[fmt]}"
        path.write_bytes(data)
        try:
            trajectory = read_trajectory(path, fmt)
        except (ValueError, KeyError, UnicodeDecodeError) as err:
            message = str(err).replace(str(path), "the upload")
            raise unprocessable(field, message) from None
    if len(trajectory) < 2:  # a rollout needs motion: refused now rather than failing in the job
        raise unprocessable(field, f"has {len(trajectory)} pose; a camera path to follow needs at least 2")
    return trajectory
