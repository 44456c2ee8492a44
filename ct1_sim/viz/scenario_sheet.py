"""Contact sheets of rendered scenario clips (first / middle / last frame, instruction and label).

It renders the clips it shows (``ct1_sim.data.scenarios``), so it sits in ``viz``, above ``data``: data never draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ct1_sim.atomic_files import atomic_write
from ct1_sim.data.scenarios.generate import make_clip
from ct1_sim.data.scenarios.renderer import SceneRenderer
from ct1_sim.data.scenarios.spec import ScenarioSpec
from ct1_sim.viz.overlay import draw_paths


def contact_sheet(spec: ScenarioSpec, rows: int, out: str | Path, seed: int = 0) -> Path:
    """Write a PNG with ``rows`` clips: frame 0 with the true path drawn in, the middle and the last frame."""
    renderer = SceneRenderer(spec.clip.width, spec.clip.height)
    tiles = []
    for i in range(rows):
        family, split = spec.assign(i)
        clip = make_clip(renderer, spec.name, family, spec.params(family), split, i, seed, spec.clip)
        first = draw_paths(clip.frames[0], [], ground_truth=clip.trajectory, camera_height_m=spec.clip.camera_height_m)
        row = np.concatenate([first, clip.frames[len(clip.frames) // 2], clip.frames[-1]], axis=1)
        image = Image.fromarray(row)
        draw = ImageDraw.Draw(image)
        text = f"{clip.instruction!r} -> {clip.meta['maneuver']} ({clip.meta['speed_mps']:.1f} m/s)"
        draw.rectangle([0, 0, 8 + 6 * len(text), 14], fill=(0, 0, 0))
        draw.text((4, 2), text, fill=(255, 255, 255))
        tiles.append(np.asarray(image))
    renderer.release()
    out = Path(out)
    with atomic_write(out) as tmp:  # a failed write leaves the old sheet, never half a PNG
        Image.fromarray(np.concatenate(tiles, axis=0)).save(tmp)  # format from the suffix, which tmp keeps
    return out
