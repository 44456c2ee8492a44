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


class _SceneCurator:
    """Curates scenes one at a time into a store, with the dataset's tables loaded once (also a Ray actor)."""

    def __init__(self, dataroot: str, version: str, store_path: str, options: dict, reader: NuScenesReader | None = None) -> None:
        self.reader = reader if reader is not None else NuScenesReader(dataroot, version)
        self.store = ClipStore.open(store_path)
        self.options = options

    def curate(self, name: str) -> Counter:
        res = curate_scene(self.reader, name, existing=set(self.store.ids()), **self.options)
        for clip in res.clips:
            self.store.append(clip, skip_existing=True)
        counts = Counter(res.counts)
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
        curator = _SceneCurator(str(dataroot), version, str(store.path), options, reader=reader)
        for name in tqdm(names, desc="curating scenes", unit="scene"):
            counts.update(curator.curate(name))
    else:
        import ray

        started = not ray.is_initialized()
        if started:
            ray.init(address=ray_address, log_to_driver=False) if ray_address else ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        try:
            from ray.util import ActorPool

            # one actor per worker loads the tables once; the pool hands the next scene to whichever is free
            n = min(max(workers, 1), len(names))
            curator = ray.remote(num_cpus=1)(_SceneCurator)
            pool = ActorPool([curator.remote(str(dataroot), version, str(store.path), options) for _ in range(n)])
            for result in tqdm(pool.map_unordered(lambda actor, name: actor.curate.remote(name), names), total=len(names),
                               desc=f"curating scenes (ray x{n})", unit="scene"):
                counts.update(result)
        finally:
            if started:
                ray.shutdown()
    if report is not None:
        from ct1_sim.data.nuscenes.report import write_report

        write_report(store, counts, Path(report))
    return store, counts
