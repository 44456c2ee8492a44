"""nuScenes curation on the test fixture: clips/s and frames/s in one process and with Ray (2 workers), and the
share of time spent inside nuscenes-devkit (loading tables + record look-ups) vs ct1-sim's own code."""

from __future__ import annotations

import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

from harness import emit_json, print_table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ct1_sim.data.nuscenes import curate_nuscenes  # noqa: E402
from tests.nuscenes_fixture import VERSION, write_fixture  # noqa: E402


def run(quick: bool = False) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="ct1-bench-cur-"))
    try:
        write_fixture(tmp / "nus", gap=False, jump=False)
        t0 = time.perf_counter()
        profile = cProfile.Profile()
        profile.enable()
        store, _counts = curate_nuscenes(tmp / "nus", VERSION, tmp / "one.zarr")
        profile.disable()
        single = time.perf_counter() - t0
        clips, frames = len(store), len(store) * 16
        stats = pstats.Stats(profile)
        devkit = sum(v[3] for k, v in stats.stats.items() if "/nuscenes/" in k[0] and k[2] in ("__init__", "get", "__make_reverse_index__", "__load_table__"))
        total = sum(v[2] for v in stats.stats.values())
        t0 = time.perf_counter()
        curate_nuscenes(tmp / "nus", VERSION, tmp / "ray.zarr", workers=2)
        ray_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(f"Curation of the fixture ({clips} clips, {frames} frames)", ["what", "value"], [
        ("clips/s, 1 process", clips / single), ("frames/s, 1 process", frames / single),
        ("clips/s, Ray 2 workers (incl. start-up)", clips / ray_s), ("share of time in nuscenes-devkit", devkit / max(total, 1e-9)),
    ])
    figures = {"clips_per_s_single": clips / single, "frames_per_s_single": frames / single, "clips_per_s_ray2": clips / ray_s,
               "devkit_share": devkit / max(total, 1e-9)}
    emit_json("curation", figures)
    return figures
