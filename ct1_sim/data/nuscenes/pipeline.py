"""``ct1-sim curate nuscenes``: curate scenes into a ClipStore (resumable; parallel over scenes with Ray)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from ct1_sim.data.clip_store import ClipStore
from ct1_sim.data.nuscenes.curation import curate_scene
from ct1_sim.data.nuscenes.reader import NuScenesReader

log = logging.getLogger(__name__)


def _curate_many(dataroot: str, version: str, scenes: list[str], store_path: str, options: dict) -> Counter:
    reader = NuScenesReader(dataroot, version)
    store = ClipStore.open(store_path)
    counts: Counter = Counter()
    for name in scenes:
        res = curate_scene(reader, name, existing=set(store.ids()), **options)
        for clip in res.clips:
            store.append(clip, skip_existing=True)
        counts.update(res.counts)
        counts["scenes"] += 1
    return counts


def curate_nuscenes(
    dataroot: str | Path, version: str, out: str | Path, *, scenes: list[str] | None = None, whole_scenes: bool = False,
    size: tuple[int, int] | None = None, exclude_tags: tuple[str, ...] = (), workers: int = 0, ray_address: str | None = None,
    report: str | Path | None = None,
) -> tuple[ClipStore, Counter]:
    """Curate ``scenes`` (default all) into the store at ``out``; writes a report when ``report`` is given."""
    reader = NuScenesReader(dataroot, version)
    names = scenes or reader.scene_names
    for name in names:
        reader.scene(name)  # a clear error for an unknown scene name before any work
    store = ClipStore.open_or_create(out)
    store.clean_staging()
    options = {"whole_scene": whole_scenes, "size": size, "exclude_tags": tuple(exclude_tags)}
    counts: Counter = Counter()
    if workers <= 1 and ray_address is None:
        for name in tqdm(names, desc="curating scenes", unit="scene"):
            counts.update(_curate_many(str(dataroot), version, [name], str(store.path), options))
    else:
        import ray

        started = not ray.is_initialized()
        if started:
            ray.init(address=ray_address, log_to_driver=False) if ray_address else ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        try:
            task = ray.remote(num_cpus=1)(_curate_many)
            n = max(workers, 1)
            chunks = [names[i::n] for i in range(n) if names[i::n]]
            for result in tqdm(ray.get([task.remote(str(dataroot), version, c, str(store.path), options) for c in chunks]),
                               desc="curating scenes (ray)", unit="worker"):
                counts.update(result)
        finally:
            if started:
                ray.shutdown()
    if report is not None:
        from ct1_sim.data.nuscenes.report import write_report

        write_report(store, counts, Path(report))
    return store, counts
