"""Procedural driving scenarios: a 3D road world rasterised headless (moderngl/EGL) along known ego paths.

A scenario spec (``scenarios/*.yaml``, :func:`load_spec`) names families (``intersection``, ``curve``,
``lane_change``, ``stop``, ``speed_change``) with weights and parameter ranges; :func:`make_clip` turns
(spec, family, split, index, seed) into a :class:`~ct1_sim.data.Clip` with exact camera poses (OpenCV
camera-to-world, world z up, metres), pixel intrinsics and per-frame depth; :func:`render_store` fills a
ClipStore (resumable, one process or Ray); :func:`export_nuscenes` writes a nuScenes-format dataroot.
:func:`build_town` lays out a town-scale world for long drives (blocks, arterials, a highway, traffic, routes).

Example:
    >>> from ct1_sim.data.scenarios import SceneRenderer, load_spec, make_clip   # doctest: +SKIP
    >>> spec = load_spec("scenarios/urban.yaml")
    >>> family, split = spec.assign(0)
    >>> clip = make_clip(SceneRenderer(448, 256), spec.name, family, spec.params(family), split, 0)
    >>> clip.frames.shape, clip.instruction, clip.meta["maneuver"]
    ((16, 256, 448, 3), 'take the left', 'turn_left')

Names resolve lazily, so importing one piece (say the instruction phrasings) stays cheap.
"""

from __future__ import annotations

from ct1_sim.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "ScenarioSpec": "spec",
    "load_spec": "spec",
    "FAMILIES": "layouts",
    "World": "layouts",
    "build_scene": "generate",
    "clip_id": "generate",
    "clip_seed": "generate",
    "make_clip": "generate",
    "Lighting": "renderer",
    "SceneRenderer": "renderer",
    "render_store": "parallel",
    "export_nuscenes": "nuscenes_export",
    "build_samples": "samples",
    "PHRASES": "instructions",
    "Town": "town",
    "build_town": "town",
    "town_seed": "town",
})
