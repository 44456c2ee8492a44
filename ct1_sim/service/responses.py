"""JSON bodies the service answers with, shared by the trajectory route and the rollout jobs."""

from __future__ import annotations

from typing import Any

from ct1_sim.formats.json_format import trajectory_to_dict


def prediction_json(prediction: Any) -> dict[str, Any]:
    """Trajectories with their labels, and what the instruction was read as: ``supported`` false means no
    trajectories, with ``reason`` and the ``nearest`` supported maneuver."""
    out: dict[str, Any] = {"trajectories": [{"maneuver": m, "trajectory": trajectory_to_dict(t)}
                                            for t, m in zip(prediction.trajectories, prediction.maneuvers, strict=True)]}
    info = getattr(prediction, "instruction", None)
    if info is not None:
        out["supported"] = bool(info["supported"])
        out["instruction"] = info
    return out
