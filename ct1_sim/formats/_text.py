"""Shared helpers for the pose formats: reading text, parsing pose lines with line numbers, checks that
name the offending line, and locating JSON values by line."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ct1_sim.formats.errors import TrajectoryFormatError
from ct1_sim.geometry import check_intrinsics, check_poses, invert_rigid

log = logging.getLogger(__name__)

#: Columns of a RealEstate10K / CT-1 pose line: index-or-timestamp, fx fy cx cy, 0 0, row-major 3x4 w2c.
COLUMNS = 19
POSE_LINE = (
    "'index-or-timestamp fx fy cx cy 0 0' then the 12 numbers of a row-major 3x4 world-to-camera matrix"
)


def read_text(path: Path, expected: str) -> str:
    """The file's text; ``TrajectoryFormatError`` for a missing, unreadable, binary or empty file."""
    if not path.exists():
        raise TrajectoryFormatError(path, "no such file", "check the path")
    if not path.is_file():
        raise TrajectoryFormatError(path, "not a regular file", "give the path of a pose file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TrajectoryFormatError(path, "not a UTF-8 text file", f"give a pose file ({expected})") from None
    except OSError as err:
        raise TrajectoryFormatError(
            path, f"cannot be read ({err.strerror})", "check its permissions"
        ) from None
    if not text.strip():
        raise TrajectoryFormatError(path, "the file is empty", f"expected {expected}")
    return text


def is_pose_line(line: str) -> bool:
    """True when ``line`` is exactly 19 numbers."""
    tokens = line.split()
    return len(tokens) == COLUMNS and all(_is_number(t) for t in tokens)


def looks_numeric(line: str) -> bool:
    """True when every token of a non-blank ``line`` is a number."""
    tokens = line.split()
    return bool(tokens) and all(_is_number(t) for t in tokens)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def parse_pose_line(path: Path, line_no: int, line: str, first_column: str) -> tuple[int, np.ndarray]:
    """One pose line -> ``(integer first column, 18 floats: fx fy cx cy, 2 unused, 12 w2c numbers)``."""
    tokens = line.split()
    if len(tokens) != COLUMNS:
        raise TrajectoryFormatError(
            path,
            f"expected {COLUMNS} columns but got {len(tokens)}",
            f"each pose line is {POSE_LINE}",
            line=line_no,
        )
    values = []
    for col, tok in enumerate(tokens, start=1):
        try:
            value = float(tok)
        except ValueError:
            raise TrajectoryFormatError(
                path,
                f"column {col} is {tok!r}, which is not a number",
                f"each pose line is {POSE_LINE}",
                line=line_no,
            ) from None
        if not math.isfinite(value):
            raise TrajectoryFormatError(
                path, f"column {col} is {tok!r} (NaN or inf)", "every number must be finite", line=line_no
            )
        values.append(value)
    first = _whole_number(tokens[0])
    if first is None:
        raise TrajectoryFormatError(
            path,
            f"column 1 ({first_column}) is {tokens[0]!r}, not a whole number",
            f"write the {first_column} as an integer",
            line=line_no,
        )
    return first, np.array(values[1:])


def _whole_number(token: str) -> int | None:
    try:
        return int(token)
    except ValueError:
        value = float(token)
        return int(value) if value == int(value) else None


def check_increasing(path: Path, values: Sequence[int], lines: Sequence[int], name: str) -> None:
    """``values`` (one per pose line) must strictly increase; otherwise name the first offending line."""
    for i in range(1, len(values)):
        if values[i] <= values[i - 1]:
            raise TrajectoryFormatError(
                path,
                f"{name} {values[i]} does not come after {values[i - 1]} (line {lines[i - 1]})",
                "they must strictly increase: sort the poses and drop duplicates",
                line=lines[i],
            )


def check_same_intrinsics(path: Path, intr: np.ndarray, lines: Sequence[int]) -> None:
    """Every row of ``intr (T,4)`` must equal the first (within 1e-6 relative): one K per trajectory."""
    same = np.isclose(intr, intr[0], rtol=1e-6, atol=1e-12).all(axis=1)
    if not same.all():
        i = int(np.flatnonzero(~same)[0])
        raise TrajectoryFormatError(
            path,
            f"intrinsics {intr[i].tolist()} differ from the first pose's {intr[0].tolist()} (line {lines[0]})",
            "ct1-sim holds one K per trajectory: split the file where the camera changes",
            line=lines[i],
        )


def pixel_K(path: Path, fx: float, fy: float, cx: float, cy: float, line: int | None) -> np.ndarray:
    """``[[fx,0,cx],[0,fy,cy],[0,0,1]]`` validated; errors name ``line``."""
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    try:
        return check_intrinsics(K)
    except ValueError as err:
        raise TrajectoryFormatError(path, str(err), "focal lengths must be positive", line=line) from None


def w2c_rows_to_c2w(path: Path, rows: np.ndarray, line_for: Callable[[int], int | None]) -> np.ndarray:
    """``(T,12)`` row-major 3x4 world-to-camera -> ``(T,4,4)`` camera-to-world.

    A non-rigid pose ``i`` raises ``TrajectoryFormatError`` at line ``line_for(i)``.
    """
    w2c = np.tile(np.eye(4), (len(rows), 1, 1))
    w2c[:, :3, :] = np.asarray(rows, dtype=np.float64).reshape(-1, 3, 4)
    try:
        check_poses(w2c, "world-to-camera")
    except ValueError as batch_err:
        for i in range(len(w2c)):
            try:
                check_poses(w2c[i : i + 1], "@")
            except ValueError as err:
                raise TrajectoryFormatError(
                    path,
                    str(err).replace("@[0]", f"pose {i} (world-to-camera)"),
                    "the 3x4 world-to-camera block must be [R|t] with R a rotation",
                    line=line_for(i),
                ) from None
        raise TrajectoryFormatError(path, str(batch_err)) from None
    return invert_rigid(w2c)


def w2c_rows(c2w: np.ndarray) -> np.ndarray:
    """``(T,4,4)`` camera-to-world -> ``(T,12)`` row-major 3x4 world-to-camera."""
    return invert_rigid(c2w)[:, :3, :].reshape(len(c2w), 12)


def fmt(values: np.ndarray | Sequence[float]) -> str:
    """Numbers as shortest round-trip decimal strings (``repr``), space separated."""
    return " ".join(repr(float(v)) for v in values)


def one_line(text: str, name: str) -> str:
    """``text`` if it fits on a single line, else ``ValueError``."""
    if "\n" in text or "\r" in text:
        raise ValueError(f"{name} must be a single line, got {text!r}")
    return text


def json_value_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """1-based line where each value of valid JSON ``text`` starts, keyed by its path (keys and indices).

    E.g. ``{(): 1, ("c2w",): 7, ("c2w", 0): 8, ...}``; used to point errors at a line.
    """
    out: dict[tuple[str | int, ...], int] = {}
    stack: list[list] = []  # [kind, key-or-index, awaiting_key]
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c in " \t\r:":
            pass
        elif c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if stack and stack[-1][0] == "{" and stack[-1][2]:
                stack[-1][1], stack[-1][2] = json.loads(text[i : j + 1]), False
            else:
                out.setdefault(tuple(f[1] for f in stack), line)
            i = j
        elif c in "[{":
            out.setdefault(tuple(f[1] for f in stack), line)
            stack.append([c, 0 if c == "[" else None, c == "{"])
        elif c in "]}":
            stack.pop()
        elif c == ",":
            if stack[-1][0] == "[":
                stack[-1][1] += 1
            else:
                stack[-1][2] = True
        else:  # a number or literal
            out.setdefault(tuple(f[1] for f in stack), line)
            while i + 1 < n and text[i + 1] not in ",]} \t\r\n":
                i += 1
        i += 1
    return out


def load_json(path: Path, expected: str) -> tuple[object, str]:
    """Parse a JSON file -> ``(data, text)``; syntax errors name their line."""
    text = read_text(path, expected)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise TrajectoryFormatError(
            path, f"not valid JSON ({err.msg}, column {err.colno})", f"expected {expected}", line=err.lineno
        ) from None
    return data, text


class JsonFieldError(ValueError):
    """A bad value inside parsed JSON; ``key`` is its path (keys and indices) for finding its line."""

    def __init__(self, key: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.key = key


def key_name(key: tuple[str | int, ...]) -> str:
    """``("c2w", 3, 1)`` -> ``c2w[3][1]``; ``()`` -> ``the top level``."""
    if not key:
        return "the top level"
    head = f"pose {key[0]}" if isinstance(key[0], int) else str(key[0])
    return head + "".join(f"[{k}]" for k in key[1:])


def json_numbers(
    value: object, shape: tuple[int | None, ...], key: tuple[str | int, ...], what: str
) -> np.ndarray:
    """Nested JSON lists of finite numbers with ``shape`` (None: any length >= 1) -> float64 array.

    Raises :class:`JsonFieldError` naming the first bad element (strings, booleans, NaN/inf, wrong lengths).
    """

    def walk(v: object, depth: int, k: tuple[str | int, ...]) -> None:
        if depth == len(shape):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise JsonFieldError(k, f"{key_name(k)} must be a number, got {json.dumps(v)[:40]}")
            if not math.isfinite(v):
                raise JsonFieldError(k, f"{key_name(k)} is {v} (NaN or inf); every number must be finite")
            return
        want = shape[depth]
        if not isinstance(v, list) or (want is not None and len(v) != want) or (want is None and not v):
            got = f"a list of {len(v)}" if isinstance(v, list) else json.dumps(v)[:40]
            items = "numbers" if depth == len(shape) - 1 else "lists"
            must = what if depth == 0 else f"a list of {want} {items}"
            raise JsonFieldError(k, f"{key_name(k)} must be {must}, got {got}")
        for j, x in enumerate(v):
            walk(x, depth + 1, k + (j,))

    walk(value, 0, key)
    return np.array(value, dtype=np.float64)


def line_of(text: str, key: tuple[str | int, ...]) -> int | None:
    """Line in JSON ``text`` of the value at ``key`` or of its nearest enclosing value (for error messages)."""
    lines = json_value_lines(text)
    while key not in lines and key:
        key = key[:-1]
    return lines.get(key)


def check_rate(rate_hz: float) -> float:
    """A pose rate (Hz) must be finite and positive."""
    rate = float(rate_hz)
    if not math.isfinite(rate) or rate <= 0:
        raise ValueError(f"rate_hz must be a positive number of poses per second, got {rate_hz}")
    return rate


def index_timestamps(indices: Sequence[int] | np.ndarray, rate_hz: float) -> np.ndarray:
    """Frame indices -> int64 microseconds ``round(index * 1e6 / rate_hz)``."""
    return np.round(np.asarray(indices, dtype=np.float64) * 1e6 / rate_hz).astype(np.int64)


def intrinsics_values(K: np.ndarray) -> tuple[float, float, float, float]:
    """``(fx, fy, cx, cy)`` of pixel ``K``; skew is not stored by the text formats and is dropped with a warning."""
    if abs(K[0, 1]) > 1e-12:
        log.warning("K has skew %g, which this pose format cannot store; dropped", K[0, 1])
    return float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2])
