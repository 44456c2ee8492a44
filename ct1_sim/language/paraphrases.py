"""A paraphrase bank: how people phrase each maneuver, speed behaviour and unsupported request.

Templates are written per class and assigned to ``train`` or ``test`` by hand (the phrasings the issue reported as
failing, "hang a left up ahead" and "overtake on the left", are train phrasings on purpose, so a regression there
is caught; they are not part of the held-out measure); the two splits share no template,
no connector of a multi-clause instruction and no polite wrapper, so compliance on ``test`` phrasings measures
how the language side generalises to wordings it never saw. ``{dir}`` templates give both sides (left / right).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

SPLITS = ("train", "test")

#: class -> split -> templates. ``{dir}`` is "left" or "right"; the class then ends in ``_left`` / ``_right``.
TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "turn": {
        "train": ("turn {dir}", "turn {dir} at the next intersection", "take the next {dir}", "make a {dir} turn",
                  "go {dir} at the junction", "take a {dir} at the crossing", "{dir} turn at the lights", "turn {dir} here",
                  "turn {dir} at the corner", "we need to turn {dir} at the intersection", "at the intersection, turn {dir}",
                  "head {dir} at the next junction", "take the {dir} turn ahead", "turn to the {dir}", "make a {dir} at the intersection",
                  "{dir}", "go {dir}", "{dir} at the junction", "turn {dir} up ahead", "take the {dir}", "turn {dir} into the next street",
                  "make a {dir} turn at the junction", "at the next crossing go {dir}", "turn {dir} at the junction",
                  "hang a {dir} up ahead",
                  "take a {dir} onto the cross street", "veer {dir} at the junction", "turn {dir} onto the next road",
                  "{dir} turn", "go {dir} at the next street", "make the {dir} turn coming up"),
        "test": ("hook a {dir}", "swing {dir} at the intersection", "next {dir}", "{dir} here",
                 "when you reach the junction go {dir}", "take the {dir}-hand turn", "steer {dir} into the cross street",
                 "I'd like to turn {dir}", "head {dir} onto the side street", "at the lights, go {dir}", "turn off to the {dir}",
                 "{dir} at the crossroads", "go {dir} at the crossroads", "bear {dir} into the side road"),
    },
    "lane_change": {
        "train": ("change to the {dir} lane", "move over one lane to the {dir}", "switch into the {dir} lane", "merge {dir}",
                  "change lanes to the {dir}", "move into the {dir} lane", "get in the {dir} lane", "shift one lane {dir}",
                  "lane change {dir}", "move over to the {dir}", "go into the {dir} lane", "change into the {dir} lane",
                  "merge into the {dir} lane", "switch lanes to the {dir}", "one lane to the {dir}",
                  "pass the slow car on the {dir}", "overtake the vehicle in front on the {dir}", "go around the car ahead on the {dir}",
                  "move to the lane on your {dir}", "change lane {dir}", "overtake on the {dir}"),
        "test": ("hop over to the {dir} lane", "pass the car ahead on the {dir}", "slide into the {dir} lane",
                 "move one lane {dir}", "take the {dir} lane", "{dir} lane", "move across to the {dir} lane when it is clear",
                 "pull into the {dir} lane", "change lanes {dir}", "get over into the {dir} lane"),
    },
    "straight": {
        "train": ("go straight", "continue straight ahead", "keep going straight", "drive straight on", "stay on this road",
                  "follow the road", "keep following the road", "stay in your lane", "keep to your lane",
                  "go straight through the intersection", "continue straight across the junction", "carry on", "keep driving",
                  "follow the curve", "follow the road as it bends", "drive on", "just keep going", "stay in lane",
                  "go straight at the junction", "continue along the road", "follow the curve to the left",
                  "follow the curve to the right", "keep straight at the intersection", "follow the lane", "go", "drive",
                  "keep moving"),
        "test": ("keep it straight", "straight on", "don't turn, keep going", "continue on this street", "go ahead",
                 "proceed forward", "head straight over the crossing", "carry straight on at the lights", "stick to this road",
                 "keep heading down this road", "straight", "maintain your lane", "go along the road",
                 "keep straight through the junction", "follow the bend", "stay with the road around the bend"),
    },
    "stop": {
        "train": ("stop", "slow down and stop", "come to a stop", "stop here", "pull up and stop", "stop at the stop line",
                  "stop at the red light", "wait at the light", "stop at the stop sign", "stop behind the car ahead",
                  "brake and stop", "come to a full stop", "stop before the intersection", "halt", "bring the car to a stop",
                  "stop at the line", "come to a stop behind the vehicle"),
        "test": ("hit the brakes and stop", "stop the car", "stop right here", "we're stopping here", "wait at the red",
                 "stop for the light", "come to a halt", "halt the car", "stop in front of the line", "stop the vehicle now",
                 "brake to a stop behind the vehicle", "stop when you reach the stop sign", "hold at the stop line"),
    },
    "slow_down": {
        "train": ("slow down", "ease off and slow down", "reduce your speed", "take it slower", "drive slower", "decelerate",
                  "slow it down", "lower your speed", "go slower", "slow down a bit", "brake gently", "ease up", "less speed",
                  "too fast, slow down", "gently brake", "take your foot off the accelerator"),
        "test": ("ease off the gas", "back off a little", "not so fast", "brake a little", "take it easy and slow down",
                 "a bit slower", "cut your speed", "drop the speed"),
    },
    "speed_up": {
        "train": ("speed up", "accelerate", "pick up some speed", "go a bit faster", "drive faster", "increase your speed",
                  "faster", "go faster", "speed it up", "floor it", "hit the gas", "more speed", "we are late, go faster",
                  "press the accelerator", "quicker"),
        "test": ("step on it", "put your foot down", "give it some gas", "hurry up", "get a move on", "a bit quicker",
                 "pick up the pace", "raise your speed"),
    },
    "keep_speed": {
        "train": ("keep your speed", "hold your speed", "maintain this speed", "keep the same speed", "stay at this speed",
                  "keep a steady speed", "same speed", "no change in speed", "hold this pace"),
        "test": ("keep going at this pace", "don't change your speed", "hold it steady", "maintain the current speed",
                 "keep it steady at this speed"),
    },
    "u_turn": {
        "train": ("make a U-turn", "do a u-turn", "turn around", "u-turn here", "make a u turn at the intersection",
                  "turn back", "do a U-turn at the junction"),
        "test": ("pull a U-turn", "turn the car around", "go back the way we came", "do a one-eighty", "flip around and head back"),
    },
    "reverse": {
        "train": ("reverse", "back up", "drive backwards", "go in reverse", "reverse into the space", "back up a bit"),
        "test": ("back the car up", "put it in reverse", "roll backwards", "reverse a few metres"),
    },
    "park": {
        "train": ("park the car", "park here", "pull over", "find a parking spot", "parallel park", "park on the right",
                  "pull over on the left"),
        "test": ("pull over to the side", "park on the side of the road", "pull into that parking space", "leave the car here",
                 "find somewhere to park"),
    },
    "impossible": {
        "train": ("fly", "jump over the car", "drive through the building", "take off", "drive on the sidewalk", "go off-road",
                  "fly over the intersection", "drive into the trees"),
        "test": ("fly over the traffic", "drive into the river", "climb the wall", "drive across the grass",
                 "leap over the junction"),
    },
    "not_driving": {
        "train": ("hello", "what time is it", "tell me a joke", "play some music", "how are you", "the weather is nice",
                  "open the window", "call mom", "thank you", "what is this", "I am hungry", "read me the news"),
        "test": ("what's the capital of France", "good morning", "turn on the radio", "set the temperature to 21",
                 "who won the game", "I like this song"),
    },
    "non_english": {
        "train": ("gire a la izquierda", "tourne à droite", "links abbiegen", "sigue recto", "arrête-toi", "gira a destra",
                  "halte hier an", "reduzca la velocidad", "cambia de carril", "va tout droit", "biegen sie rechts ab",
                  "fermati", "acelera", "ralentis"),
        "test": ("rechts abbiegen", "gire a la derecha", "tournez à gauche", "fermati qui", "para aquí", "geradeaus fahren",
                 "sempre dritto", "change de voie"),
    },
}

#: Wrappers around a whole instruction (politeness, terse forms, distances); split like the templates.
WRAPPERS: dict[str, tuple[str, ...]] = {
    "train": ("{x}", "please {x}", "{x} please", "can you {x}", "now {x}"),
    "test": ("could you {x}", "would you {x}", "{x}, thanks", "ok, {x}", "alright, {x}"),
}
#: Distances appended to turns and lane changes.
DISTANCES: dict[str, tuple[str, ...]] = {"train": ("", " in 30 m", " in 50 metres"), "test": ("", " in 20 m", " after 40 metres")}
#: How a speed clause and a maneuver clause join ("slow down and turn right").
CONNECTORS: dict[str, tuple[str, ...]] = {
    "train": ("{s} and {m}", "{m} and {s}", "{s}, then {m}"),
    "test": ("{s} and then {m}", "{m}, and {s}", "{s} before you {m}"),
}


@dataclass(frozen=True)
class Phrase:
    """One instruction of the bank: its text, what it asks for (a parser class and a speed behaviour) and its template."""

    text: str
    maneuver: str
    speed: str
    template: str


def _sided(group: str, split: str) -> list[tuple[str, str, str]]:
    out = []
    for t in TEMPLATES[group][split]:
        for side in ("left", "right"):
            out.append((t.replace("{dir}", side), f"{group}_{side}", t))
    return out


def _clauses(split: str) -> dict[str, list[tuple[str, str, str]]]:
    """Plain clauses per kind: maneuver clauses ``(text, class, template)`` and speed clauses."""
    return {
        "maneuver": _sided("turn", split) + _sided("lane_change", split) + [(t, "straight", t) for t in TEMPLATES["straight"][split]]
        + [(t, "stop", t) for t in TEMPLATES["stop"][split]],
        "speed": [(t, name, t) for name in ("slow_down", "speed_up", "keep_speed") for t in TEMPLATES[name][split]],
        "unsupported": [(t, name, t) for name in ("u_turn", "reverse", "park", "impossible", "not_driving", "non_english")
                        for t in TEMPLATES[name][split]],
    }


def paraphrase_bank(split: str, combined_per_pair: int = 1, seed: int = 0) -> list[Phrase]:
    """Every phrasing of ``split``: each template (both sides), wrapped and with distances, plus multi-clause
    speed + maneuver instructions (``combined_per_pair`` random joins per maneuver class x speed class)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    clauses = _clauses(split)
    out: list[Phrase] = []
    seen: set[str] = set()

    def add(text: str, maneuver: str, speed: str, template: str) -> None:
        text = " ".join(text.split())
        if text not in seen:
            seen.add(text)
            out.append(Phrase(text, maneuver, speed, template))

    for text, cls, template in clauses["maneuver"]:
        distances = DISTANCES[split] if cls.startswith(("turn", "lane_change")) else ("",)
        for wrapper, distance in itertools.product(WRAPPERS[split], distances):
            add(wrapper.replace("{x}", text + distance), cls, "none", template)
    for text, cls, template in clauses["speed"]:
        for wrapper in WRAPPERS[split]:
            add(wrapper.replace("{x}", text), "straight", cls, template)
    for text, cls, template in clauses["unsupported"]:
        add(text, cls, "none", template)
        if cls not in ("not_driving", "non_english"):
            add(WRAPPERS[split][1].replace("{x}", text), cls, "none", template)
    maneuver_clauses = [c for c in clauses["maneuver"] if c[1] not in ("stop", "straight")]
    for (s_text, s_cls, s_t), connector in itertools.product(clauses["speed"], CONNECTORS[split]):
        for _ in range(combined_per_pair):
            m_text, m_cls, m_t = maneuver_clauses[int(rng.integers(len(maneuver_clauses)))]
            add(connector.replace("{s}", s_text).replace("{m}", m_text), m_cls, s_cls, f"{s_t} + {m_t}")
    return out


def held_out_phrasing(maneuver: str, speed: str, rng: np.random.Generator, split: str = "test") -> str:
    """A random phrasing of ``(maneuver, speed)`` from ``split`` (for evaluating the model on unseen wordings)."""
    options = _phrasings(split).get((maneuver, speed), [])
    if not options:
        raise KeyError(f"the {split} bank has no phrasing of {maneuver} / {speed}")
    return options[int(rng.integers(len(options)))]


@functools.lru_cache(maxsize=4)
def _phrasings(split: str) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for p in paraphrase_bank(split):
        out.setdefault((p.maneuver, p.speed), []).append(p.text)
    return out


#: A third set, written after the train bank was last changed and never used to change anything: whole instructions
#: in wordings of neither split, to measure the parser without the bias of a test set that informed the train bank.
PROBE: tuple[tuple[str, str, str], ...] = (
    ("at the upcoming junction please go left", "turn_left", "none"), ("we want the road on the right", "turn_right", "none"),
    ("make your next turn a left", "turn_left", "none"), ("head right when the lights allow", "turn_right", "none"),
    ("take that left turn coming up", "turn_left", "none"), ("turn right onto the avenue", "turn_right", "none"),
    ("go left at this crossing", "turn_left", "none"), ("I need you to go right at the junction", "turn_right", "none"),
    ("left at the lights, then carry on", "turn_left", "none"), ("swing right onto that street", "turn_right", "none"),
    ("take a right up here", "turn_right", "none"), ("please make a left at the corner", "turn_left", "none"),
    ("get into the lane to your left", "lane_change_left", "none"), ("move right one lane", "lane_change_right", "none"),
    ("shift over to the right lane", "lane_change_right", "none"), ("switch to the lane on the left", "lane_change_left", "none"),
    ("pull out and pass on the left", "lane_change_left", "none"), ("cut over to the right-hand lane", "lane_change_right", "none"),
    ("change into the lane on your right", "lane_change_right", "none"), ("go one lane over to the left", "lane_change_left", "none"),
    ("keep straight on this street", "straight", "none"), ("just follow this road", "straight", "none"),
    ("carry on down the road", "straight", "none"), ("stay straight through the lights", "straight", "none"),
    ("keep on going", "straight", "none"), ("continue ahead", "straight", "none"), ("go straight on please", "straight", "none"),
    ("stay in this lane and keep going", "straight", "none"), ("follow the road around the corner", "straight", "none"),
    ("no turns, straight ahead", "straight", "none"),
    ("stop the car here", "stop", "none"), ("bring it to a halt", "stop", "none"), ("pull up at the line", "stop", "none"),
    ("please stop now", "stop", "none"), ("stop at the lights", "stop", "none"), ("come to rest behind that car", "stop", "none"),
    ("slow right down", "straight", "slow_down"), ("ease your speed", "straight", "slow_down"), ("drive more slowly", "straight", "slow_down"),
    ("reduce speed a little", "straight", "slow_down"), ("go quicker", "straight", "speed_up"), ("accelerate a bit", "straight", "speed_up"),
    ("speed up a little", "straight", "speed_up"), ("push the speed up", "straight", "speed_up"),
    ("hold the current speed", "straight", "keep_speed"), ("keep this speed", "straight", "keep_speed"),
    ("slow down, then turn left at the junction", "turn_left", "slow_down"), ("speed up and change to the left lane", "lane_change_left", "speed_up"),
    ("turn right and slow down", "turn_right", "slow_down"), ("move into the right lane and speed up", "lane_change_right", "speed_up"),
    ("do a U-turn when you can", "u_turn", "none"), ("turn around and go back", "u_turn", "none"),
    ("back into that spot", "reverse", "none"), ("drive in reverse", "reverse", "none"),
    ("park over there", "park", "none"), ("pull over and park", "park", "none"),
    ("fly to the moon", "impossible", "none"), ("drive up the building", "impossible", "none"),
    ("what is the weather like", "not_driving", "none"), ("play my favourite playlist", "not_driving", "none"),
    ("tournez à droite au carrefour", "non_english", "none"), ("an der Kreuzung links abbiegen", "non_english", "none"),
    ("sigue derecho por favor", "non_english", "none"), ("svolta a sinistra", "non_english", "none"),
    ("右に曲がって", "non_english", "none"), ("поверни налево", "non_english", "none"),
)


#: Speed idioms written on 2026-12-07 before any change of the bank's speed templates (the held-out test split's speed
#: idioms had by then been seen to fail, so that split is no longer blind for them), never to be trained on: an
#: unbiased check of how the parser reads speed words it never saw. (~60 more train speed phrasings were tried that day:
#: this probe 0.64 -> 0.75, but held-out compliance 0.972 -> 0.961 and the general probe 0.894 -> 0.848: reverted.)
PROBE_SPEED: tuple[tuple[str, str, str], ...] = (
    ("easy on the pedal", "straight", "slow_down"), ("bring the speed down", "straight", "slow_down"),
    ("let's go slower", "straight", "slow_down"), ("dial it back a bit", "straight", "slow_down"),
    ("you're going too fast", "straight", "slow_down"), ("lift off the throttle", "straight", "slow_down"),
    ("slow the car", "straight", "slow_down"), ("gently, slower now", "straight", "slow_down"),
    ("gas it", "straight", "speed_up"), ("give it more throttle", "straight", "speed_up"),
    ("let's move faster", "straight", "speed_up"), ("punch it", "straight", "speed_up"),
    ("bring the speed up", "straight", "speed_up"), ("speed the car up", "straight", "speed_up"),
    ("you're too slow, go on", "straight", "speed_up"), ("get going, faster", "straight", "speed_up"),
    ("stay at the current speed", "straight", "keep_speed"), ("don't speed up or slow down", "straight", "keep_speed"),
    ("keep this pace", "straight", "keep_speed"), ("cruise at this speed", "straight", "keep_speed"),
    ("no faster, no slower", "straight", "keep_speed"), ("steady as you go", "straight", "keep_speed"),
    ("come to a standstill", "stop", "none"), ("full stop now", "stop", "none"), ("pull up here and stop", "stop", "none"),
    ("stop at the junction", "stop", "none"),
    ("dial it back and turn left", "turn_left", "slow_down"), ("punch it and move to the left lane", "lane_change_left", "speed_up"),
)


def probe_phrases(which: str = "probe") -> list[Phrase]:
    """:data:`PROBE` (``"probe"``) or :data:`PROBE_SPEED` (``"probe_speed"``) as phrases (template = ``which``)."""
    table = {"probe": PROBE, "probe_speed": PROBE_SPEED}[which]
    return [Phrase(text, maneuver, speed, which) for text, maneuver, speed in table]
