"""The replay output folder, written so that a killed run can be resumed.

Layout::

    OUT/
      run.json                 the settings and source of the run (a resume must match them)
      scenes/<scene>/          one folder per finished scene, moved in with one rename (atomic):
        keyframes.zarr         per-keyframe table (see ct1_sim.replay.table) + pred_c2w (N,K,T,4,4), true_c2w (N,T,4,4)
        summary.json           means over the scene's keyframes, skipped keyframes by reason, timing
        overlays/kNNN.png      frame + paths | top view
        videos/kNNN_*.mp4      generated and true future (with --video)
      .staging/                scenes being written (removed when their writer is gone)
      keyframes.zarr           all scenes' keyframes together (rebuilt at the end of every run)
      summary.json, summary.csv   one row per scene and the overall means
      report/index.html        the HTML report
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from ct1_sim.atomic_files import atomic_write, clean_dead_staging, staged_folder, write_text_atomic
from ct1_sim.replay.scene import SceneResult
from ct1_sim.replay.scoring import METRICS
from ct1_sim.replay.table import read_table, table_rows, write_table

log = logging.getLogger(__name__)

SCENES, STAGING = "scenes", ".staging"


def scene_dirname(scene: str) -> str:
    """A folder name for ``scene`` (letters, digits, ``_ . -``; anything else becomes ``_``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", scene) or "_"


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


class ReplayOutput:
    """The output folder of one replay run."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def scene_dir(self, scene: str) -> Path:
        return self.root / SCENES / scene_dirname(scene)

    def is_finished(self, scene: str) -> bool:
        return (self.scene_dir(scene) / "summary.json").is_file()

    def check(self, run: dict[str, Any]) -> None:
        """Refuse (``ValueError``) a folder that holds a replay started with other ``run`` settings; writes nothing."""
        run = _json_safe(run)
        meta = self.root / "run.json"
        if meta.is_file():
            before = json.loads(meta.read_text())
            if before != run:
                changed = sorted(k for k in set(before) | set(run) if before.get(k) != run.get(k))
                raise ValueError(f"{self.root} holds a replay with other settings ({', '.join(changed)} differ); "
                                 "resume with the same options, or choose a new --out")

    def start(self, run: dict[str, Any]) -> None:
        """Create the folder and its ``run.json``, or check (:meth:`check`) that an existing one has the same settings."""
        self.check(run)
        meta = self.root / "run.json"
        if not meta.is_file():
            self.root.mkdir(parents=True, exist_ok=True)
            write_text_atomic(meta, json.dumps(_json_safe(run), indent=2))
        (self.root / SCENES).mkdir(exist_ok=True)
        clean_dead_staging(self.root / STAGING)

    def write_scene(self, result: SceneResult) -> Path:
        """Write a scene's results into staging, then move the folder into ``scenes/`` with one rename (an earlier
        result of the scene is replaced)."""
        final = self.scene_dir(result.scene)
        with staged_folder(final, self.root / STAGING, replace=True) as staging:
            write_table(staging / "keyframes.zarr", result.rows, result.arrays)
            for rel, data in result.files.items():
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                (staging / rel).write_bytes(data)
            (staging / "summary.json").write_text(json.dumps(_json_safe(result.summary), indent=2))
        return final

    def scene_summary(self, scene: str) -> dict[str, Any]:
        return json.loads((self.scene_dir(scene) / "summary.json").read_text())

    def scene_table(self, scene: str, arrays: bool = False) -> dict[str, np.ndarray]:
        path = self.scene_dir(scene) / "keyframes.zarr"
        rows = json.loads((path / "zarr.json").read_text())["attributes"]["rows"]
        return read_table(path, arrays=arrays) if rows else {}

    def combine(self, scenes: list[str]) -> dict[str, Any]:
        """Write the run-level ``keyframes.zarr``, ``summary.json`` and ``summary.csv`` from the scene folders."""
        rows: list[dict] = []
        for scene in scenes:
            table = self.scene_table(scene)
            if not table:
                continue
            prefix = f"{SCENES}/{scene_dirname(scene)}/"
            for row in table_rows(table):
                for key in ("overlay", "video_generated", "video_true"):
                    row[key] = prefix + row[key] if row[key] else ""
                rows.append(row)
        write_table(self.root / "keyframes.zarr", rows)
        per_scene = [self.scene_summary(s) for s in scenes]
        overall = {k: (float(np.nanmean([r[k] for r in rows])) if rows and np.isfinite([r[k] for r in rows]).any() else None)
                   for k in METRICS}
        summary = {"scenes": per_scene, "overall": {"scenes": len(scenes), "keyframes": len(rows), **overall}}
        write_text_atomic(self.root / "summary.json", json.dumps(_json_safe(summary), indent=2))
        columns = ["scene", "keyframes", *METRICS]
        with atomic_write(self.root / "summary.csv") as tmp, tmp.open("x", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for s in per_scene:
                writer.writerow([s.get(c) if s.get(c) is not None else "" for c in columns])
        return summary

