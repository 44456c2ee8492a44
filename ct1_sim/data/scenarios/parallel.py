"""Render many scenario clips into one ClipStore: single process or Ray actors (one GL context each).

Clip ids are deterministic, so a rerun skips clips already in the store (resume) and Ray and a single
process write identical stores.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from ct1_sim.data.clip_store import ClipStore
from ct1_sim.data.scenarios.generate import clip_id, make_clip
from ct1_sim.data.scenarios.spec import ScenarioSpec
from ct1_sim.ray_pool import RayActorPool

log = logging.getLogger(__name__)

Task = tuple[ScenarioSpec, int, str, str]  # spec, index, family, split


def plan_tasks(specs: list[ScenarioSpec], clips_per_spec: int, start: int = 0) -> list[tuple[Task, str]]:
    """(task, clip id) for every clip to render."""
    out = []
    for spec in specs:
        for i in range(start, start + clips_per_spec):
            family, split = spec.assign(i)
            out.append(((spec, i, family, split), clip_id(spec.name, family, split, i)))
    return out


def _render_into(store_path: str, tasks: list[Task], base_seed: int, renderer=None) -> int:
    from ct1_sim.data.scenarios.renderer import SceneRenderer

    store = ClipStore.open(store_path)
    written = 0
    for spec, i, family, split in tasks:
        if renderer is None or (renderer.width, renderer.height) != (spec.clip.width, spec.clip.height):
            renderer = SceneRenderer(spec.clip.width, spec.clip.height)
        clip = make_clip(renderer, spec.name, family, spec.params(family), split, i, base_seed, spec.clip)
        written += int(store.append(clip, skip_existing=True))
    return written


def render_store(
    specs: list[ScenarioSpec],
    clips_per_spec: int,
    out: str | Path,
    *,
    seed: int = 0,
    workers: int = 0,
    ray_address: str | None = None,
    progress: bool = True,
) -> ClipStore:
    """Render ``clips_per_spec`` clips of each spec into ``out`` (created or resumed)."""
    store = ClipStore.open_or_create(out)
    store.clean_staging()
    existing = set(store.ids())
    for spec in specs:  # a resume must render what the store's clips of the spec were rendered with
        prefixes = tuple(f"{spec.name}-{family}-" for family in spec.families)
        store.claim(f"scenario-{spec.name}", {"spec": asdict(spec), "seed": seed},
                    has_clips=any(cid.startswith(prefixes) for cid in existing),
                    fix="render with the same spec file and --seed (more --clips are fine)")
    todo = [task for task, cid in plan_tasks(specs, clips_per_spec) if cid not in existing]
    log.info("%d clips to render (%d already in %s)", len(todo), len(existing), out)
    if not todo:
        return store
    if workers <= 1 and ray_address is None:
        from ct1_sim.data.scenarios.renderer import SceneRenderer

        renderer = None
        for task in tqdm(todo, desc="rendering clips", unit="clip", disable=not progress):
            if renderer is None:
                renderer = SceneRenderer(task[0].clip.width, task[0].clip.height)
            _render_into(str(store.path), [task], seed, renderer)
        return store
    with RayActorPool(_RayRenderer, (str(store.path), seed), workers=workers, address=ray_address, max_actors=len(todo)) as pool:
        for _ in tqdm(pool.map_unordered("render", todo), total=len(todo), desc=f"rendering clips (ray x{len(pool)})",
                      unit="clip", disable=not progress):
            pass
    return store


class _RayRenderer:
    """A Ray actor holding one GL context."""

    def __init__(self, store_path: str, seed: int) -> None:
        import os

        # one CPU per actor: llvmpipe's rasteriser threads would otherwise oversubscribe the node (pixels do not
        # depend on the thread count); set before the actor opens its GL context
        os.environ.setdefault("LP_NUM_THREADS", "1")
        self.store_path, self.seed, self.renderer = store_path, seed, None

    def render(self, task: Task) -> int:
        """Render one clip into the store; 1 when it was written, 0 when it was already there."""
        from ct1_sim.data.scenarios.renderer import SceneRenderer

        spec = task[0]
        if self.renderer is None or (self.renderer.width, self.renderer.height) != (spec.clip.width, spec.clip.height):
            self.renderer = SceneRenderer(spec.clip.width, spec.clip.height)
        return _render_into(self.store_path, [task], self.seed, self.renderer)
