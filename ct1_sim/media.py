"""Write frames to MP4 (H.264 via imageio-ffmpeg) and looping GIF previews, atomically."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ct1_sim.atomic_files import atomic_write


def _check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (T,H,W,3); got {frames.dtype} {frames.shape}")
    if frames.shape[0] == 0:
        raise ValueError("no frames to encode")
    return frames


def _even(frames: np.ndarray) -> np.ndarray:
    """H.264 with yuv420p needs even sizes: pad one edge row/column by replication when odd."""
    _, h, w, _ = frames.shape
    return np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def write_mp4(frames: np.ndarray, path: str | Path, fps: float = 5.0, quality: int = 8) -> Path:
    """Encode uint8 (T,H,W,3) RGB ``frames`` at ``fps`` frames/s to ``path`` (atomically; usual permissions)."""
    import imageio.v2 as imageio

    frames = _even(_check_frames(frames))
    path = Path(path)
    with atomic_write(path) as tmp, imageio.get_writer(str(tmp), format="FFMPEG", fps=fps, codec="libx264", quality=quality,
                                                       pixelformat="yuv420p", macro_block_size=1) as writer:
        for frame in frames:
            writer.append_data(frame)
    return path


def mp4_bytes(frames: np.ndarray, fps: float = 5.0) -> bytes:
    """The MP4 encoding of ``frames`` as bytes (for HTTP responses and ROS messages)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = write_mp4(frames, Path(tmp) / "video.mp4", fps=fps)
        return out.read_bytes()


def write_gif(frames: np.ndarray, path: str | Path, fps: float = 5.0) -> Path:
    """A looping GIF preview of ``frames`` at ``fps`` frames/s (atomically)."""
    from PIL import Image

    frames = _check_frames(frames)
    path = Path(path)
    images = [Image.fromarray(f) for f in frames]
    with atomic_write(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path


def _last_line(err: BaseException) -> str:
    """The last line of an error (ffmpeg's errors carry its whole banner before the reason)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__


def read_mp4(path: str | Path) -> Iterator[np.ndarray]:
    """The frames of a video file, one uint8 ``(H,W,3)`` RGB array at a time (lossy H.264 frames as decoded).

    Raises ``ValueError`` naming the file when it is missing, not a video, or truncated before its first frame.
    """
    import imageio.v2 as imageio

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} is missing; write the output again")
    try:
        reader = imageio.get_reader(str(path), format="FFMPEG")
    except (OSError, RuntimeError, ValueError) as err:
        raise ValueError(f"{path} is not a readable video ({_last_line(err)}); write it again") from None
    with reader:
        try:
            for frame in reader:
                yield np.ascontiguousarray(frame[..., :3])
        except (OSError, RuntimeError) as err:
            raise ValueError(f"{path} is truncated or damaged ({_last_line(err)}); write it again") from None
