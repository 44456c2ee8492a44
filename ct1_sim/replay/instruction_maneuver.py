"""Which maneuver a free-text instruction asks for (so a fixed ``--instruction`` can be scored for compliance).

An instruction that is one of the scenario phrasings (:data:`ct1_sim.data.scenarios.instructions.PHRASES`)
maps to that phrase list's maneuver; other text is read with a few keyword rules. ``None`` means the text names
no maneuver the classifier knows (compliance is then not scored).
"""

from __future__ import annotations

import re

from ct1_sim.data.scenarios.instructions import PHRASES
from ct1_sim.metrics import MANEUVERS

#: Phrase-list keys that are not maneuver names -> the maneuver ``classify_maneuver`` reads off such a path.
_KEY_TO_MANEUVER = {
    "straight_intersection": "straight", "follow_road": "straight", "speed_up": "straight", "slow_down": "straight",
    "follow_left": "turn_left", "follow_right": "turn_right",
    "stop_line": "stop", "stop_red_light": "stop", "stop_sign": "stop", "stop_vehicle": "stop",
}


def maneuver_of_instruction(text: str) -> str | None:
    """The maneuver (one of ``MANEUVERS``) that ``text`` asks for, or ``None`` when it names none."""
    clean = " ".join(text.lower().split())
    for key, phrases in PHRASES.items():
        if clean in phrases:
            return _KEY_TO_MANEUVER.get(key, key) if key in MANEUVERS or key in _KEY_TO_MANEUVER else None
    words = set(re.findall(r"[a-z]+", clean))
    side = "left" if "left" in words else "right" if "right" in words else None
    if words & {"stop", "halt", "park"}:
        return "stop"
    if side and words & {"lane", "merge", "switch"}:
        return f"lane_change_{side}"
    if side:
        return f"turn_{side}"
    if words & {"straight", "ahead", "follow", "continue", "accelerate", "faster", "slower", "slow", "speed"}:
        return "straight"
    return None
