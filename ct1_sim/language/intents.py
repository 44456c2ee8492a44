"""What an instruction asks for: a maneuver and a speed behaviour, or why it cannot be done.

The trajectory model is conditioned on the :class:`Intent` an instruction parses to (rendered as its canonical
phrase), so every phrasing of one request drives the same way, and a request the model cannot follow is refused
with a reason and the nearest maneuver it can do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: Maneuvers the trajectory model drives ("straight" = keep following the road: through a junction, round a bend).
MANEUVERS: tuple[str, ...] = ("straight", "turn_left", "turn_right", "lane_change_left", "lane_change_right", "stop")
#: Speed behaviours an instruction may add ("none" = the instruction says nothing about speed).
SPEEDS: tuple[str, ...] = ("none", "keep_speed", "slow_down", "speed_up")
#: Requests that are understood but not supported: (reason, nearest supported maneuver).
UNSUPPORTED: dict[str, tuple[str, str]] = {
    "u_turn": ("U-turns are not supported: the model plans forward motion only (3 s ahead)", "turn_left"),
    "reverse": ("reversing is not supported: the model plans forward motion only", "stop"),
    "park": ("parking and pulling over are not supported: the model does not plan into parking spaces", "stop"),
    "impossible": ("a car cannot do that: the model plans drives on the road", "straight"),
    "not_driving": ("this is not a driving instruction; ask for a maneuver such as 'turn left at the intersection'", "straight"),
    "non_english": ("only English instructions are understood (the language model is English-only)", "straight"),
}
#: Every class the instruction parser tells apart.
CLASSES: tuple[str, ...] = MANEUVERS + tuple(UNSUPPORTED)

_MANEUVER_WORDS = {
    "straight": "keep following the road", "turn_left": "turn left at the intersection", "turn_right": "turn right at the intersection",
    "lane_change_left": "change to the left lane", "lane_change_right": "change to the right lane", "stop": "come to a stop",
}
_SPEED_WORDS = {"keep_speed": "keep your speed", "slow_down": "slow down", "speed_up": "speed up"}


@dataclass(frozen=True)
class Intent:
    """A parsed instruction. ``supported`` False: ``reason`` says why and ``nearest`` names the closest maneuver
    that is supported; ``maneuver`` is then the unsupported request's class (e.g. ``u_turn``)."""

    maneuver: str
    speed: str = "none"
    supported: bool = True
    reason: str = ""
    nearest: str = ""
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if self.maneuver not in CLASSES:
            raise ValueError(f"unknown maneuver {self.maneuver!r}; use one of {CLASSES}")
        if self.speed not in SPEEDS:
            raise ValueError(f"unknown speed behaviour {self.speed!r}; use one of {SPEEDS}")

    @classmethod
    def of(cls, maneuver: str, speed: str = "none", confidence: float = 1.0) -> Intent:
        """The intent of a parser class: supported maneuvers as they are, the others with their reason and nearest."""
        if maneuver in UNSUPPORTED:
            reason, nearest = UNSUPPORTED[maneuver]
            return cls(maneuver, "none", False, reason, nearest, confidence)
        if maneuver == "stop":
            speed = "none"  # stopping is its own speed profile
        return cls(maneuver, speed, True, "", maneuver, confidence)

    @property
    def key(self) -> tuple[str, str]:
        """``(maneuver, speed)``: what the trajectory model is conditioned on."""
        return (self.maneuver, self.speed)

    def canonical_phrase(self) -> str:
        """The one phrasing of this intent the trajectory model is trained and conditioned on."""
        if not self.supported:
            raise ValueError(f"{self.maneuver!r} is not supported: {self.reason}")
        words = _MANEUVER_WORDS[self.maneuver]
        if self.speed != "none":
            words = f"{_SPEED_WORDS[self.speed]} and {words}" if self.maneuver != "straight" else _SPEED_WORDS[self.speed]
        return words

    def as_dict(self) -> dict[str, Any]:
        """JSON form for every transport: ``supported``, ``maneuver``, ``speed``, ``reason``, ``nearest``, ``confidence``."""
        out = asdict(self)
        out["confidence"] = round(float(self.confidence), 4)
        return out


def refusal_message(instruction: str, intent: dict[str, Any]) -> str:
    """The one line every transport gives for an instruction it does not drive: why, and the nearest supported
    maneuver (``intent`` as :meth:`Intent.as_dict` gives it)."""
    return f"{instruction[:60]!r} is not supported: {intent['reason']} (nearest supported maneuver: {intent['nearest']})"


#: The scenario generator's instruction keys (``data.scenarios.instructions``) as intents.
INSTRUCTION_KEY_INTENTS: dict[str, tuple[str, str]] = {
    "turn_left": ("turn_left", "none"), "turn_right": ("turn_right", "none"),
    "straight": ("straight", "none"), "straight_intersection": ("straight", "none"), "follow_road": ("straight", "none"),
    "follow_left": ("straight", "none"), "follow_right": ("straight", "none"),
    "lane_change_left": ("lane_change_left", "none"), "lane_change_right": ("lane_change_right", "none"),
    "stop": ("stop", "none"), "stop_line": ("stop", "none"), "stop_red_light": ("stop", "none"), "stop_sign": ("stop", "none"),
    "stop_vehicle": ("stop", "none"), "speed_up": ("straight", "speed_up"), "slow_down": ("straight", "slow_down"),
}


def swap_sides(maneuver: str) -> str:
    """``turn_left`` <-> ``turn_right`` and ``lane_change_left`` <-> ``lane_change_right``; others unchanged."""
    if maneuver.endswith("_left"):
        return maneuver[: -len("left")] + "right"
    if maneuver.endswith("_right"):
        return maneuver[: -len("right")] + "left"
    return maneuver
