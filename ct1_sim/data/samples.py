"""The demo input bundled with the package: rendered test-split frames with instructions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ct1_sim.geometry import CameraTrajectory
from ct1_sim.rgb_input import decode_image

SAMPLES_DIR = Path(str(resources.files("ct1_sim") / "assets" / "samples"))


@dataclass(frozen=True)
class Sample:
    """One demo input: a front-camera frame, an instruction and what is known about the moment.

    ``trajectory`` is the scenario generator's ground-truth future (absolute camera-to-world, OpenCV,
    metres) when the sample ships one; ``speed_mps`` is the ego speed at the frame.
    """

    name: str
    image: np.ndarray
    instruction: str
    speed_mps: float | None
    maneuver: str | None
    trajectory: CameraTrajectory | None


def load_samples(folder: Path = SAMPLES_DIR) -> list[Sample]:
    """Read ``samples.json`` and its images (and ground-truth trajectories) from ``folder``."""
    from ct1_sim.formats import read_trajectory

    index = folder / "samples.json"
    if not index.is_file():
        raise FileNotFoundError(f"no demo samples at {folder} (missing samples.json); reinstall ct1-sim")
    samples = []
    for entry in json.loads(index.read_text()):
        image = decode_image(folder / entry["file"])
        traj_file = entry.get("trajectory")
        samples.append(
            Sample(
                name=Path(entry["file"]).stem,
                image=image,
                instruction=entry["instruction"],
                speed_mps=entry.get("speed_mps"),
                maneuver=entry.get("maneuver"),
                trajectory=read_trajectory(folder / traj_file, "json") if traj_file else None,
            )
        )
    return samples
