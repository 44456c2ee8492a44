"""Metrics of one replayed keyframe: K predicted paths against the true future camera path.

The same definitions as ``ct1-sim eval trajectory`` (:func:`ct1_sim.trajectory.evaluation.score_samples`):
both paths relative to their first pose (the current camera, OpenCV axes, metres); minADE@K / minFDE@K over the
K samples; ADE, FDE, rotation error (deg) and L2 at 1/2/3 s of sample 0 — ``l2_Ns`` is the distance at that
time (UniAD's protocol), ``l2avg_Ns`` the mean over the poses up to it (the ST-P3 / VAD protocol behind the
0.41 / 0.70 / 1.05 m VAD-Base reference); instruction compliance is the share of samples whose maneuver
(``classify_maneuver``) equals the instructed one (NaN when the instruction names no known maneuver).
"""

from __future__ import annotations

import numpy as np

from ct1_sim.geometry import CameraTrajectory
from ct1_sim.metrics import l2_at
from ct1_sim.trajectory.evaluation import score_samples
from ct1_sim.world.world_model import medoid_index

#: Horizons (s) of the open-loop L2 columns.
HORIZONS_S = (1, 2, 3)
#: Metric columns of the per-keyframe table, in order.
METRICS = ("min_ade", "min_fde", "ade", "fde", "mean_ade", *(f"l2_{s}s" for s in HORIZONS_S),
           *(f"l2avg_{s}s" for s in HORIZONS_S), "rot_err_deg", "jerk", "compliance", "diversity")


def score_keyframe(samples: list[CameraTrajectory], truth: CameraTrajectory, instructed: str | None) -> dict[str, float | int | str]:
    """Metrics (m, deg, m/s^3, share) of ``samples`` against ``truth`` for one keyframe, plus the medoid sample's
    index and every sample's maneuver label."""
    from ct1_sim.metrics import classify_maneuver

    row: dict[str, float | int | str] = dict(score_samples(samples, truth, instructed or "none"))
    if instructed is None:
        row["compliance"] = float("nan")
    for sec in HORIZONS_S:
        row.setdefault(f"l2_{sec}s", float("nan"))
        ok = truth.times_s[-1] >= sec - 1e-9
        row[f"l2avg_{sec}s"] = float(l2_at(samples[0], truth, float(sec), mode="average")) if ok else float("nan")
    out: dict[str, float | int | str] = {k: float(row[k]) for k in METRICS}
    out["medoid"] = medoid_index(samples)
    out["pred_maneuvers"] = ",".join(classify_maneuver(s) for s in samples)
    return out


def summarize(rows: list[dict]) -> dict[str, float]:
    """Means of the metric columns over keyframes (NaNs ignored; NaN when none is finite)."""
    out: dict[str, float] = {}
    for k in METRICS:
        values = np.array([r[k] for r in rows], dtype=float)
        values = values[np.isfinite(values)]
        out[k] = float(values.mean()) if len(values) else float("nan")
    return out
