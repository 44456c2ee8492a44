"""Natural phrasings of each maneuver (and speed behaviour); a seeded choice picks one per clip."""

from __future__ import annotations

import numpy as np

PHRASES: dict[str, tuple[str, ...]] = {
    "turn_left": ("turn left at the next intersection", "take the left", "make a left turn here", "turn left at the junction",
                  "go left at the intersection", "take the next left"),
    "turn_right": ("turn right at the next intersection", "take the right", "make a right turn here", "turn right at the junction",
                   "go right at the intersection", "take the next right"),
    "straight": ("go straight", "continue straight ahead", "keep going straight", "drive straight on", "stay on this road"),
    "straight_intersection": ("go straight through the intersection", "continue straight across the junction",
                              "drive straight over the crossing", "keep straight at the intersection"),
    "follow_road": ("follow the road", "keep following the road", "stay in your lane and follow the road", "follow the curve"),
    "follow_left": ("follow the road as it bends left", "follow the curve to the left", "keep left with the bend"),
    "follow_right": ("follow the road as it bends right", "follow the curve to the right", "keep right with the bend"),
    "lane_change_left": ("change to the left lane", "move over one lane to the left", "switch into the left lane", "merge left"),
    "lane_change_right": ("change to the right lane", "move over one lane to the right", "switch into the right lane", "merge right"),
    "stop": ("slow down and stop", "come to a stop", "stop here", "pull up and stop"),
    "stop_line": ("stop at the stop line", "come to a stop at the line", "stop before the intersection"),
    "stop_red_light": ("stop at the red light", "wait at the light", "stop for the red light", "come to a stop at the lights"),
    "stop_sign": ("stop at the stop sign", "come to a full stop at the sign", "stop at the line"),
    "stop_vehicle": ("stop behind the car ahead", "come to a stop behind the vehicle", "brake and stop behind the car"),
    "speed_up": ("speed up", "accelerate", "pick up some speed", "go a bit faster"),
    "slow_down": ("slow down", "ease off and slow down", "reduce your speed", "take it slower"),
}


def phrase(key: str, rng: np.random.Generator) -> str:
    """One phrasing of ``key`` (a maneuver or a family-specific variant)."""
    if key not in PHRASES:
        raise KeyError(f"no phrasings for {key!r}")
    options = PHRASES[key]
    return options[int(rng.integers(len(options)))]


def instruction_key(family: str, label: str, scripted: str, layout: dict) -> str:
    """Which phrase list fits a clip: the label read off the path, refined by the family's context."""
    if family == "intersection" and label == "straight":
        return "straight_intersection"
    if family == "curve":
        if label == "turn_left":
            return "follow_left"
        if label == "turn_right":
            return "follow_right"
        return "follow_road"
    if family == "stop" and label == "stop":
        if layout.get("reason") != "stop_line":
            return "stop_vehicle"
        return {"red_light": "stop_red_light", "stop_sign": "stop_sign"}.get(layout.get("control", ""), "stop_line")
    if family == "speed_change" and label == "straight":
        return scripted  # speed_up / slow_down
    return label
