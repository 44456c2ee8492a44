"""``ClipStore``: the one on-disk format for clips — a zarr v3 hierarchy on a local directory.

Layout::

    STORE.zarr/
      zarr.json                 root group; attrs: format name and version
      clips/<clip_id>/          one group per clip
        zarr.json               attrs: instruction, meta, image_size
        frames                  (T,H,W,3) uint8, one chunk per frame, blosc-lz4
        depth                   (T,H,W) float16, optional, one chunk per frame
        c2w  K  timestamps_us   camera path (OpenCV camera-to-world, metres), intrinsics, µs
      staging/                  clips being written (invisible to readers)
      writers/<writer>/         attrs: the settings a writer (a scenario spec, a nuScenes curation) wrote clips with

Appends are atomic: a clip is written completely under ``staging/`` and then moved into ``clips/`` with
one ``rename``, so a writer killed mid-clip leaves nothing visible, and several processes can append
different clips to the same store at once (no shared index file is rewritten). A resumable writer records its
settings once (:meth:`ClipStore.claim`) and a resume with other settings is refused, naming what differs.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from zarr.codecs import BloscCodec

from ct1_sim.atomic_files import clean_dead_staging, staged_folder
from ct1_sim.data.clip import Clip, check_clip_id
from ct1_sim.geometry import CameraTrajectory

log = logging.getLogger(__name__)

FORMAT_NAME = "ct1-sim-clipstore"
FORMAT_VERSION = 1
_CLIPS = "clips"
_STAGING = "staging"
_WRITERS = "writers"
#: Frame/depth compression: blosc lz4 with bit-shuffle (fastest and smallest of those measured in
#: benchmarks/bench_clip_store.py on 448x256 frames).
IMAGE_CODEC = BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle")


class ClipExistsError(ValueError):
    """Raised when appending a clip whose id is already in the store."""


class ClipStore:
    """A directory of clips in zarr v3. Create with :meth:`create`, open with :meth:`open`.

    Example:
        >>> store = ClipStore.create("out/clips.zarr")          # doctest: +SKIP
        >>> store.append(clip)                                  # doctest: +SKIP
        >>> for clip in ClipStore.open("out/clips.zarr"): ...   # doctest: +SKIP
    """

    def __init__(self, path: Path, *, _checked: bool = False) -> None:
        if not _checked:
            raise TypeError("use ClipStore.create(path) or ClipStore.open(path)")
        self.path = Path(path)

    # ------------------------------------------------------------------ open / create
    @classmethod
    def create(cls, path: str | os.PathLike[str], *, exist_ok: bool = False) -> ClipStore:
        """Create an empty store at ``path``; with ``exist_ok`` open an existing store instead."""
        path = Path(path)
        if path.exists():
            if exist_ok and (path / "zarr.json").exists():
                return cls.open(path)
            if any(path.iterdir()) if path.is_dir() else True:
                raise FileExistsError(
                    f"{path} already exists; open it with ClipStore.open, or choose a new path"
                )
        root = zarr.open_group(str(path), mode="w")
        root.attrs.update({"format": FORMAT_NAME, "version": FORMAT_VERSION})
        root.create_group(_CLIPS)
        root.create_group(_STAGING)
        root.create_group(_WRITERS)
        log.info("created clip store %s", path)
        return cls(path, _checked=True)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ClipStore:
        """Open an existing store; ``FileNotFoundError``/``ValueError`` say what is wrong with ``path``."""
        path = Path(path)
        meta_file = path / "zarr.json"
        if not meta_file.is_file():
            raise FileNotFoundError(
                f"{path} is not a clip store (no zarr.json); create one with ClipStore.create or "
                "`ct1-sim scenarios render ... --out STORE.zarr`"
            )
        try:
            attrs = json.loads(meta_file.read_text()).get("attributes", {})
        except json.JSONDecodeError as err:
            raise ValueError(f"{meta_file} is not valid JSON ({err}); the store is damaged") from None
        if attrs.get("format") != FORMAT_NAME:
            raise ValueError(f"{path} is a zarr hierarchy but not a ct1-sim clip store (format={attrs.get('format')!r})")
        if int(attrs.get("version", -1)) > FORMAT_VERSION:
            raise ValueError(
                f"{path} has clip-store version {attrs['version']}, newer than this ct1-sim reads "
                f"({FORMAT_VERSION}); upgrade ct1-sim"
            )
        return cls(path, _checked=True)

    @classmethod
    def open_or_create(cls, path: str | os.PathLike[str]) -> ClipStore:
        """Open the store at ``path`` or create it when absent (what resumable writers use)."""
        return cls.create(path, exist_ok=True)

    # ------------------------------------------------------------------ reading
    def ids(self) -> list[str]:
        """Sorted clip ids (only complete clips are listed)."""
        clips_dir = self.path / _CLIPS
        return sorted(p.name for p in clips_dir.iterdir() if (p / "zarr.json").is_file())

    def __len__(self) -> int:
        return len(self.ids())

    def __contains__(self, clip_id: object) -> bool:
        return isinstance(clip_id, str) and (self.path / _CLIPS / clip_id / "zarr.json").is_file()

    def __iter__(self) -> Iterator[Clip]:
        for clip_id in self.ids():
            yield self[clip_id]

    def _group(self, clip_id: str) -> zarr.Group:
        check_clip_id(clip_id)
        if clip_id not in self:
            raise KeyError(f"no clip {clip_id!r} in {self.path} ({len(self)} clips)")
        return zarr.open_group(str(self.path / _CLIPS / clip_id), mode="r")

    def meta(self, clip_id: str) -> dict[str, Any]:
        """A clip's ``meta`` dict plus ``instruction``, read without touching its frames."""
        attrs = dict(self._group(clip_id).attrs)
        return {**attrs["meta"], "instruction": attrs["instruction"]}

    def _array(self, clip_id: str, name: str, indices: Any = slice(None)) -> np.ndarray:
        """``clip_id``'s array ``name`` (or some of it); a ``ValueError`` naming the store and clip when its chunks do
        not decode (a truncated or corrupted file)."""
        try:
            return self._group(clip_id)[name][indices]
        except (RuntimeError, OSError) as err:
            raise ValueError(f"{self.path}: clip {clip_id!r} has a damaged {name!r} array ({err}); re-render or re-curate "
                             "that clip (remove its folder first)") from None

    def __getitem__(self, clip_id: str) -> Clip:
        g = self._group(clip_id)
        attrs = dict(g.attrs)
        trajectory = self.read_trajectory(clip_id)
        depth = self._array(clip_id, "depth") if "depth" in g else None
        return Clip(
            id=clip_id,
            frames=self._array(clip_id, "frames"),
            trajectory=trajectory,
            instruction=attrs["instruction"],
            meta=dict(attrs["meta"]),
            depth=depth,
        )

    def read_trajectory(self, clip_id: str) -> CameraTrajectory:
        """Only the camera path of a clip (no frames are read)."""
        g = self._group(clip_id)
        arrays = {name: self._array(clip_id, name) for name in ("c2w", "K", "timestamps_us")}
        try:
            return CameraTrajectory(image_size=tuple(g.attrs["image_size"]), **arrays)
        except ValueError as err:
            raise ValueError(f"{self.path}: clip {clip_id!r} holds an invalid camera path ({err})") from None

    def read_frames(self, clip_id: str, indices: list[int] | slice = slice(None)) -> np.ndarray:
        """Only some frames ``(N,H,W,3)`` of a clip (reads just their chunks)."""
        return self._array(clip_id, "frames", indices)

    def read_depth(self, clip_id: str, indices: list[int] | slice = slice(None)) -> np.ndarray:
        """Only some depth maps ``(N,H,W)`` float16 (m along the optical axis) of a clip; KeyError when it has none."""
        group = self._group(clip_id)
        if "depth" not in group:
            raise KeyError(f"clip {clip_id!r} has no depth maps; render clips with `ct1-sim scenarios render` to get them")
        return self._array(clip_id, "depth", indices)

    def split_ids(self, split: str, limit: int | None = None) -> list[str]:
        """Ids of clips whose ``meta['split']`` is ``split`` (sorted; the first ``limit``)."""
        ids = [i for i in self.ids() if self.meta(i).get("split") == split]
        return ids[:limit] if limit else ids

    # ------------------------------------------------------------------ writers' settings
    def writer_settings(self, writer: str) -> dict[str, Any] | None:
        """The settings ``writer`` recorded with :meth:`claim`, or None."""
        meta = self.path / _WRITERS / _writer_dirname(writer) / "zarr.json"
        return json.loads(meta.read_text())["attributes"]["settings"] if meta.is_file() else None

    def claim(self, writer: str, settings: dict[str, Any], *, has_clips: bool,
              fix: str = "resume with the same settings") -> None:
        """Record that ``writer`` (e.g. ``scenario-urban``) writes clips with ``settings`` (JSON values).

        When ``writer`` recorded other settings and the store holds its clips (``has_clips``, which the writer knows
        from its clip ids), raise ``ValueError`` naming each setting that differs (old and new value) and ``fix``, or a
        new store, as what to do; without its clips the new settings replace the old. The same settings again: a
        resume.
        """
        settings = json.loads(json.dumps(settings))
        before = self.writer_settings(writer)
        if before == settings:
            return
        if before is not None and has_clips:
            old, new = _flatten(before), _flatten(settings)
            changed = [f"{k}: {old.get(k, '(unset)')!r} -> {new.get(k, '(unset)')!r}"
                       for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
            raise ValueError(f"{self.path} holds clips of {writer} made with other settings ({'; '.join(changed)}); "
                             f"{fix}, or write to a new store")
        if before is None and has_clips:
            log.warning("%s holds clips of %s but not the settings they were made with (an older ct1-sim wrote them); "
                        "recording this run's", self.path, writer)
        zarr.open_group(str(self.path / _WRITERS), mode="a")  # stores made before writers were recorded lack it
        with staged_folder(self.path / _WRITERS / _writer_dirname(writer), self.path / _STAGING, replace=True) as staging:
            zarr.open_group(str(staging), mode="w").attrs.update({"writer": writer, "settings": settings})

    # ------------------------------------------------------------------ writing
    def append(self, clip: Clip, *, skip_existing: bool = False) -> bool:
        """Write ``clip`` atomically. Returns False when it exists and ``skip_existing`` is set.

        Raises :class:`ClipExistsError` when the id is taken (unless ``skip_existing``).
        """
        final = self.path / _CLIPS / clip.id
        if clip.id in self:
            if skip_existing:
                return False
            raise ClipExistsError(f"clip {clip.id!r} already exists in {self.path}")
        try:
            json.dumps(clip.meta)
        except TypeError as err:
            raise ValueError(f"clip meta must be JSON-serialisable: {err}") from None
        try:
            with staged_folder(final, self.path / _STAGING) as staging:
                self._write_group(staging, clip)
        except FileExistsError:
            if skip_existing:
                return False
            raise ClipExistsError(f"clip {clip.id!r} was written by another process") from None
        return True

    @staticmethod
    def _write_group(path: Path, clip: Clip) -> None:
        t, h, w, _ = clip.frames.shape
        g = zarr.open_group(str(path), mode="w")
        frames = g.create_array("frames", shape=(t, h, w, 3), chunks=(1, h, w, 3), dtype="uint8", compressors=IMAGE_CODEC)
        frames[:] = clip.frames
        if clip.depth is not None:
            depth = g.create_array("depth", shape=(t, h, w), chunks=(1, h, w), dtype="float16", compressors=IMAGE_CODEC)
            depth[:] = clip.depth
        traj = clip.trajectory
        for name, value in (("c2w", traj.c2w), ("K", traj.K), ("timestamps_us", traj.timestamps_us)):
            arr = g.create_array(name, shape=value.shape, dtype=value.dtype)
            arr[:] = value
        g.attrs.update(
            {"instruction": clip.instruction, "meta": clip.meta, "image_size": list(traj.image_size)}
        )

    def clean_staging(self) -> int:
        """Remove leftovers of writers that died mid-clip (their process is gone). Returns how many."""
        return len(clean_dead_staging(self.path / _STAGING))

    def __repr__(self) -> str:
        return f"ClipStore({str(self.path)!r}, clips={len(self)})"


def _writer_dirname(writer: str) -> str:
    if not writer or not all(c.isalnum() or c in "._-" for c in writer) or writer.startswith("."):
        raise ValueError(f"writer name {writer!r} must be letters, digits, '.', '_' or '-'")
    return writer


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``{"a.b": leaf}`` (for naming the settings that differ)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}
