"""Metrics of one replayed keyframe: K predicted paths against the true future camera path.

Built from :mod:`ct1_sim.metrics` with the definitions ``ct1-sim eval trajectory`` reports: both paths relative
to their first pose (the current camera, OpenCV axes, metres); minADE@K / minFDE@K over the K samples; ADE,
FDE, rotation error (deg) and L2 at 1/2/3 s of sample 0 — ``l2_Ns`` is the distance at that time (UniAD's
protocol), ``l2avg_Ns`` the mean over the poses up to it (the ST-P3 / VAD protocol behind the
0.41 / 0.70 / 1.05 m VAD-Base reference); ``mean_ade`` the mean ADE over samples; jerk (m/s^3) the mean over
samples; compliance the share of samples whose maneuver (``classify_maneuver``) equals the instructed one (NaN
when the instruction names no known maneuver); diversity the mean pairwise distance between the K endpoints (m).
"""

from __future__ import annotations

import numpy as np

from ct1_sim.geometry import CameraTrajectory
from ct1_sim.metrics import ade, classify_maneuver, fde, jerk, l2_at, maneuver_compliance, rotation_error_deg

#: Horizons (s) of the open-loop L2 columns.
HORIZONS_S = (1, 2, 3)
#: Metric columns of the per-keyframe table, in order.
METRICS = ("min_ade", "min_fde", "ade", "fde", "mean_ade", *(f"l2_{s}s" for s in HORIZONS_S),
           *(f"l2avg_{s}s" for s in HORIZONS_S), "rot_err_deg", "jerk", "compliance", "diversity")


def score_keyframe(samples: list[CameraTrajectory], truth: CameraTrajectory, instructed: str | None) -> dict[str, float | str]:
    """Metrics (m, deg, m/s^3, share) of ``samples`` against ``truth`` for one keyframe, plus every sample's
    maneuver label (comma-separated)."""
    ades = np.array([ade(s, truth) for s in samples])
    fdes = np.array([fde(s, truth) for s in samples])
    ends = np.stack([s.relative_to_first().positions[-1] for s in samples])  # (K,3)
    k = len(samples)
    row: dict[str, float | str] = {
        "min_ade": float(ades.min()), "min_fde": float(fdes.min()), "ade": float(ades[0]), "fde": float(fdes[0]),
        "mean_ade": float(ades.mean()),
    }
    for mode, name in (("at", "l2"), ("average", "l2avg")):
        for sec in HORIZONS_S:
            reaches = truth.times_s[-1] >= sec - 1e-9
            row[f"{name}_{sec}s"] = float(l2_at(samples[0], truth, float(sec), mode=mode)) if reaches else float("nan")
    row["rot_err_deg"] = rotation_error_deg(samples[0], truth)
    row["jerk"] = float(np.mean([jerk(s) for s in samples]))
    row["compliance"] = maneuver_compliance(samples, instructed) if instructed is not None else float("nan")
    row["diversity"] = float(np.linalg.norm(ends[:, None] - ends[None], axis=-1).sum() / (k * (k - 1))) if k > 1 else 0.0
    row["pred_maneuvers"] = ",".join(classify_maneuver(s) for s in samples)
    return row


def summarize(rows: list[dict]) -> dict[str, float]:
    """Means of the metric columns over keyframes (NaNs ignored; NaN when none is finite)."""
    out: dict[str, float] = {}
    for k in METRICS:
        values = np.array([r[k] for r in rows], dtype=float)
        values = values[np.isfinite(values)]
        out[k] = float(values.mean()) if len(values) else float("nan")
    return out
