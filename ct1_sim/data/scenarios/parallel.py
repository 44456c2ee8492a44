"""Render many scenario clips into one ClipStore: single process or Ray actors (one GL context each).

Clip ids are deterministic, so a rerun skips clips already in the store (resume) and Ray and a single
process write identical stores.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tqdm import tqdm

from ct1_sim.data.clip_store import ClipStore
from ct1_sim.data.scenarios.generate import clip_id, make_clip
from ct1_sim.data.scenarios.spec import ScenarioSpec

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


def _render_into(store_path: str, tasks: list[Task], base_seed: int, renderer=None) -> int:  # noqa: ANN001
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
    import ray

    started = not ray.is_initialized()
    if started:
        if ray_address is not None:
            ray.init(address=ray_address, log_to_driver=False)
        else:
            ray.init(num_cpus=max(workers, 1), include_dashboard=False, log_to_driver=False)
    try:
        Worker = ray.remote(num_cpus=1)(_RayRenderer)
        n = max(workers, 1) if ray_address is None else max(workers, int(ray.cluster_resources().get("CPU", 1)))
        actors = [Worker.remote(str(store.path), seed) for _ in range(n)]
        chunks = [todo[i : i + 4] for i in range(0, len(todo), 4)]
        pending = [actors[k % n].render.remote(chunk) for k, chunk in enumerate(chunks)]
        with tqdm(total=len(todo), desc=f"rendering clips (ray x{n})", unit="clip", disable=not progress) as bar:
            sizes = {ref: len(chunk) for ref, chunk in zip(pending, chunks, strict=True)}
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    ray.get(ref)
                    bar.update(sizes[ref])
    finally:
        if started:
            ray.shutdown()
    return store


class _RayRenderer:
    """A Ray actor holding one GL context."""

    def __init__(self, store_path: str, seed: int) -> None:
        import os

        # one CPU per actor: llvmpipe's rasteriser threads would otherwise oversubscribe the node (pixels do not
        # depend on the thread count); set before the actor opens its GL context
        os.environ.setdefault("LP_NUM_THREADS", "1")
        self.store_path, self.seed, self.renderer = store_path, seed, None

    def render(self, tasks: list[Task]) -> int:
        from ct1_sim.data.scenarios.renderer import SceneRenderer

        if self.renderer is None:
            self.renderer = SceneRenderer(tasks[0][0].clip.width, tasks[0][0].clip.height)
        return _render_into(self.store_path, tasks, self.seed, self.renderer)
