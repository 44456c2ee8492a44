"""Build the demo input bundled with the package: a few test-split frames with instructions and true paths."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from ct1_sim.clip_spec import IMAGE_SIZE
from ct1_sim.data.scenarios.generate import make_clip
from ct1_sim.data.scenarios.renderer import SceneRenderer
from ct1_sim.data.scenarios.spec import ScenarioSpec
from ct1_sim.formats import write_trajectory

#: (spec file stem, family, wanted label) of each bundled sample.
WANTED = (
    ("urban", "intersection", "turn_left"),
    ("urban", "intersection", "turn_right"),
    ("highway", "lane_change", "lane_change_left"),
    ("urban", "stop", "stop"),
    ("suburban", "curve", "straight"),
)


def build_samples(specs: dict[str, ScenarioSpec], out: Path, seed: int = 0, search: int = 400) -> list[dict]:
    """Search each spec's test split for the wanted maneuvers; write ``NAME.png``, ``NAME.json`` and ``samples.json``."""
    out.mkdir(parents=True, exist_ok=True)
    renderer = SceneRenderer(*IMAGE_SIZE)
    entries = []
    for spec_name, family, label in WANTED:
        spec = specs[spec_name]
        for i in range(search):
            fam, split = spec.assign(i)
            if fam != family or split != "test":
                continue
            clip = make_clip(renderer, spec.name, fam, spec.params(fam), split, i, seed, spec.clip)
            if clip.meta["maneuver"] != label:
                continue
            name = f"{label}_{clip.id}"
            Image.fromarray(clip.frames[0]).save(out / f"{name}.png", optimize=True)
            write_trajectory(clip.trajectory, out / f"{name}.json", "json")
            (out / f"{name}.json").chmod(0o644)  # package data: readable by everyone
            entries.append({"file": f"{name}.png", "trajectory": f"{name}.json", "instruction": clip.instruction,
                            "speed_mps": clip.meta["speed_mps"], "maneuver": label, "clip_id": clip.id})
            break
        else:
            raise RuntimeError(f"no {label} clip in the first {search} clips of {spec_name}")
    keep = {"samples.json"} | {e["file"] for e in entries} | {e["trajectory"] for e in entries}
    for old in [*out.glob("*.png"), *out.glob("*.json")]:  # samples of an earlier build
        if old.name not in keep:
            old.unlink()
    (out / "samples.json").write_text(json.dumps(entries, indent=2) + "\n")
    return entries
