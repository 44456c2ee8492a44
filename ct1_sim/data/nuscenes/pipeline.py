"""``ct1-sim curate nuscenes``: curate scenes into a ClipStore (resumable; parallel over scenes with Ray)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from ct1_sim.data.clip_store import ClipStore
from ct1_sim.data.nuscenes.curation import curate_scene
from ct1_sim.data.nuscenes.reader import NuScenesReader
from ct1_sim.ray_pool import RayActorPool

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
    curated = {cid.rsplit("-", 1)[0] for cid in store.ids()} & set(reader.scene_names)  # ids are <scene>-<window>
    store.claim(f"nuscenes-{version}", options, has_clips=bool(curated),
                fix="curate with the same --whole-scenes, --size and --exclude-tag (other --scenes are fine)")
    counts: Counter = Counter()
    if workers <= 1 and ray_address is None:
        curator = _SceneCurator(str(dataroot), version, str(store.path), options, reader=reader)
        for name in tqdm(names, desc="curating scenes", unit="scene"):
            counts.update(curator.curate(name))
    else:
        # one actor per worker loads the tables once; the pool hands the next scene to whichever is free
        with RayActorPool(_SceneCurator, (str(dataroot), version, str(store.path), options), workers=workers,
                          address=ray_address, max_actors=len(names)) as pool:
            for result in tqdm(pool.map_unordered("curate", names), total=len(names),
                               desc=f"curating scenes (ray x{len(pool)})", unit="scene"):
                counts.update(result)
    if report is not None:
        from ct1_sim.data.nuscenes.report import write_report

        write_report(store, counts, Path(report))
    return store, counts
