"""JSON bodies the service answers with, shared by the trajectory route and the rollout jobs."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json

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


def prediction_body(prediction: Any) -> bytes:
    """:func:`prediction_json` as the JSON bytes of an HTTP response, written by pydantic's serializer in one pass.

    The route sends these itself: handed the dict, FastAPI would first validate all ~4,000 numbers against the
    route's ``dict[str, Any]`` response model, then serialize them the same way."""
    return to_json(prediction_json(prediction))
