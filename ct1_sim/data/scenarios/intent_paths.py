"""What the ego should drive, from a clip's first frame, for every intent (maneuver x speed behaviour) it could be told.

A scenario clip records one drive, but its first frame answers every instruction: the layout that was drawn keeps
the reference path of each maneuver the scene allows (``meta["alternatives"]``). Here each intent becomes a drive
with the same ego dynamics (:func:`~ct1_sim.data.scenarios.ego_motion.simulate`) along that reference with that
speed behaviour. An intent the scene cannot allow (turn left on a highway, go straight on at a T junction) gets the
safe answer instead: keep following the road (or stop before the junction), at the asked speed. The trajectory model
trains on these, so it learns from the image when an instruction must be refused on the road.
"""

from __future__ import annotations

import numpy as np

from ct1_sim.clip_spec import CLIP_SPEC, ClipSpec
from ct1_sim.data.scenarios.ego_motion import EgoState, SpeedPlan, camera_c2w, simulate

#: Every intent the model is trained to answer: the maneuvers with each speed behaviour; a stop is its own speed.
INTENT_KEYS: tuple[tuple[str, str], ...] = tuple(
    (m, s) for m in ("straight", "turn_left", "turn_right", "lane_change_left", "lane_change_right") for s in
    ("none", "keep_speed", "slow_down", "speed_up")) + (("stop", "none"),)
CAMERA_FORWARD_M = 1.5  # the camera ahead of the rear axle (ego_motion.camera_c2w's default)
NOSE_M = 3.4  # rear axle to the front bumper
SIM_DT_S = 0.02
SLOW_ACCEL, SPEED_UP_ACCEL, STOP_DECEL = -2.0, 1.5, 2.5  # m/s^2


def own_intent(meta: dict) -> tuple[str, str]:
    """The intent the clip's own drive answers (its instruction), from its family, label and layout."""
    from ct1_sim.data.scenarios.instructions import instruction_key
    from ct1_sim.language import INSTRUCTION_KEY_INTENTS

    label = meta.get("maneuver", "straight")
    if "family" in meta:
        return INSTRUCTION_KEY_INTENTS[instruction_key(meta["family"], label, meta.get("scripted", ""), meta.get("layout", {}))]
    return (label if label in {m for m, _ in INTENT_KEYS} else "straight", "none")


def _start(c2w0: np.ndarray, speed: float) -> EgoState:
    forward = c2w0[:3, 2]
    yaw = float(np.arctan2(forward[1], forward[0]))
    x, y = c2w0[0, 3] - CAMERA_FORWARD_M * np.cos(yaw), c2w0[1, 3] - CAMERA_FORWARD_M * np.sin(yaw)
    return EgoState(float(x), float(y), yaw, float(speed))


def _plan(speed: str, v0: float) -> SpeedPlan:
    if speed == "slow_down":
        return SpeedPlan(v0=v0, accel=SLOW_ACCEL, v_min=0.3 * v0, v_max=16.0)
    if speed == "speed_up":
        return SpeedPlan(v0=v0, accel=SPEED_UP_ACCEL, v_max=16.0)
    return SpeedPlan(v0=v0, accel=0.0, v_max=16.0)


def feasible_reference(meta: dict, maneuver: str) -> tuple[str, str]:
    """``(reference name, how)`` for ``maneuver`` in this scene: the maneuver's own reference when the scene allows it
    (``how`` = "as asked"), else the safe answer ("keep the road" or "stop before the junction")."""
    alts = meta.get("alternatives", {})
    family, layout = meta.get("family"), meta.get("layout", {})
    if family == "stop":
        return "stop", "stop (blocked ahead)"
    if family == "curve" and maneuver == f"turn_{layout.get('direction')}":
        return "straight", "as asked (the road bends that way)"
    if maneuver == "stop":
        return "straight" if "straight" in alts else next(iter(alts)), "as asked"
    if maneuver in alts:
        return maneuver, "as asked"
    if "straight" in alts:
        return "straight", "keep the road"
    return "junction_stop", "stop before the junction"


def intent_paths(meta: dict, c2w: np.ndarray, spec: ClipSpec = CLIP_SPEC) -> dict[tuple[str, str], np.ndarray] | None:
    """Camera-to-world paths ``(T,4,4)`` (world frame, the clip's times) for every key of :data:`INTENT_KEYS`; the clip's
    own intent keeps its recorded drive ``c2w``. None when the clip's meta has no alternatives (not a scenario clip)."""
    alts = meta.get("alternatives")
    if not alts:
        return None
    v0 = float(meta.get("speed_mps", 0.0))
    start = _start(c2w[0], v0)
    times = np.arange(spec.num_poses) / spec.rate_hz
    own = own_intent(meta)
    cache: dict[tuple[str, str], np.ndarray] = {}
    out: dict[tuple[str, str], np.ndarray] = {}
    for maneuver, speed in INTENT_KEYS:
        if (maneuver, speed) == own:
            out[(maneuver, speed)] = np.asarray(c2w, dtype=np.float64)
            continue
        ref_name, _how = feasible_reference(meta, maneuver)
        if meta.get("family") == "stop":
            out[(maneuver, speed)] = np.asarray(c2w, dtype=np.float64)  # a red light, a stop sign or a stopped car ahead
            continue
        stopping = maneuver == "stop" or ref_name == "junction_stop"
        # "none" (not said) and "keep_speed" drive the same plan: one drive serves both
        key = (ref_name, "stop" if stopping else "none" if speed == "keep_speed" else speed)
        if key not in cache:
            if ref_name == "junction_stop":
                reference = np.array(next(iter(alts.values())))[:1] + np.array([[0.0, 0.0], [200.0, 0.0]])
                stop_s = max(float(meta.get("layout", {}).get("distance_m", 8.0)) - NOSE_M - 1.0, 0.5)
                plan = SpeedPlan(v0=v0, stop_s=stop_s, decel=4.0, curve_limit=False)
            elif stopping:
                reference = np.array(alts[ref_name])
                decel = max(STOP_DECEL, v0 / 2.3)  # stopped inside the clip, as the stop scenarios are
                plan = SpeedPlan(v0=v0, stop_s=v0**2 / (2 * decel) + 0.5, decel=decel, curve_limit=False)
            else:
                reference, plan = np.array(alts[ref_name]), _plan(speed, v0)
            cache[key] = _drive(reference, start, plan, times, spec)
            if speed == "slow_down" and ref_name != "straight" and not stopping:
                if (ref_name, "none") not in cache:  # INTENT_KEYS lists "none" first: normally already driven
                    cache[(ref_name, "none")] = _drive(reference, start, _plan("none", v0), times, spec)
                cache[key] = _slow_but_complete(reference, start, v0, times, spec, cache[key], cache[(ref_name, "none")])
        out[(maneuver, speed)] = cache[key]
    return out


def _drive(reference: np.ndarray, start: EgoState, plan: SpeedPlan, times: np.ndarray, spec: ClipSpec) -> np.ndarray:
    t, states = simulate(reference, start, plan, spec.duration_s + 0.05, dt=SIM_DT_S)
    return _camera_poses(t, states, times, spec)


def _slow_but_complete(reference: np.ndarray, start: EgoState, v0: float, times: np.ndarray, spec: ClipSpec,
                       first: np.ndarray, at_speed: np.ndarray) -> np.ndarray:
    """A slower turn or lane change that still shows the maneuver inside the clip: gentler braking until it does.
    ``first`` is the drive with the usual braking, ``at_speed`` the same maneuver without it."""
    from ct1_sim.metrics import classify_maneuver

    dt = 1.0 / spec.rate_hz
    wanted = classify_maneuver(_relative(at_speed), dt)
    candidate = first
    for accel in (-1.0, -0.5):
        if classify_maneuver(_relative(candidate), dt) == wanted:
            return candidate
        candidate = _drive(reference, start, SpeedPlan(v0=v0, accel=accel, v_min=0.5 * v0, v_max=16.0), times, spec)
    return candidate


def _relative(c2w: np.ndarray) -> np.ndarray:
    return np.linalg.inv(c2w[0]) @ c2w


def _camera_poses(t: np.ndarray, states: np.ndarray, times: np.ndarray, spec: ClipSpec) -> np.ndarray:
    yaw = np.unwrap(states[:, 2])
    x, y, h = (np.interp(times, t, c) for c in (states[:, 0], states[:, 1], yaw))
    return np.stack([camera_c2w(a, b, c, spec.camera_height_m, pitch_deg=spec.camera_pitch_deg) for a, b, c in zip(x, y, h, strict=True)])
