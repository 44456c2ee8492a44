"""Instruction language: the paraphrase bank's splits, intents, and the raw-text checks every transport shares."""

from __future__ import annotations

import pytest

from ct1_sim.language import (
    CLASSES,
    SPEEDS,
    InstructionError,
    Intent,
    check_instruction_text,
    latin_share,
    paraphrase_bank,
)
from ct1_sim.language.paraphrases import CONNECTORS, TEMPLATES, WRAPPERS


def test_train_and_test_phrasings_share_no_template_wrapper_or_connector() -> None:
    train, test = paraphrase_bank("train"), paraphrase_bank("test")
    assert not {p.text for p in train} & {p.text for p in test}
    train_templates = {part for p in train for part in p.template.split(" + ")}
    test_templates = {part for p in test for part in p.template.split(" + ")}
    assert not train_templates & test_templates
    for table in (WRAPPERS, CONNECTORS):
        assert not set(table["train"]) & set(table["test"])
    for group in TEMPLATES.values():
        assert not set(group["train"]) & set(group["test"])


def test_every_class_and_speed_behaviour_has_train_and_test_phrasings() -> None:
    for split in ("train", "test"):
        bank = paraphrase_bank(split)
        assert {p.maneuver for p in bank} == set(CLASSES), split
        assert {p.speed for p in bank} == set(SPEEDS), split
        # sided templates give both sides: every left phrasing has its right twin
        lefts = {p.text for p in bank if p.maneuver == "turn_left" and p.speed == "none"}
        rights = {p.text for p in bank if p.maneuver == "turn_right" and p.speed == "none"}
        assert {t.replace("left", "right") for t in lefts} == rights
    assert len(paraphrase_bank("train")) > 1500 and len(paraphrase_bank("test")) > 1000


def test_multi_clause_instructions_carry_both_parts() -> None:
    combined = [p for p in paraphrase_bank("train") if " + " in p.template]
    assert combined and all(p.speed != "none" and p.maneuver.startswith(("turn", "lane_change")) for p in combined)
    assert any(p.text == "slow down and turn right" or ("slow down" in p.text and "right" in p.text) for p in combined)


def test_unsupported_intents_say_why_and_what_is_nearest() -> None:
    u_turn = Intent.of("u_turn")
    assert not u_turn.supported and "U-turn" in u_turn.reason and u_turn.nearest == "turn_left"
    assert Intent.of("reverse").nearest == "stop" and Intent.of("park").nearest == "stop"
    with pytest.raises(ValueError, match="not supported"):
        u_turn.canonical_phrase()
    assert Intent.of("turn_right", "slow_down").canonical_phrase() == "slow down and turn right at the intersection"
    assert Intent.of("straight", "speed_up").canonical_phrase() == "speed up"
    assert Intent.of("stop", "speed_up").speed == "none"  # a stop is its own speed profile
    d = Intent.of("lane_change_left").as_dict()
    assert d == {"maneuver": "lane_change_left", "speed": "none", "supported": True, "reason": "", "nearest": "lane_change_left",
                 "confidence": 1.0}
    with pytest.raises(ValueError, match="unknown maneuver"):
        Intent("fly_away")


@pytest.mark.parametrize(("text", "problem"), [
    ("", "is empty"), ("   \t ", "is empty"), ("x" * 10_000, "10000 characters long; at most 500"),
    ("turn left\x00now", "control characters \\(U\\+0000\\)"), ("turn\x1b[31m left", "control characters"),
    ("🚗🚗🚗 ⬅️", "has no words"), ("12345 !!!", "has no words"), (None, "must be a string"), (42, "must be a string"),
])
def test_unreadable_instructions_are_refused_naming_the_problem(text: object, problem: str) -> None:
    with pytest.raises(InstructionError, match=problem):
        check_instruction_text(text)


def test_readable_instructions_are_trimmed_and_scripts_are_measured() -> None:
    assert check_instruction_text("  turn   left\n at the lights ") == "turn left at the lights"
    assert latin_share("turn left") == 1.0
    assert latin_share("поверни налево") == 0.0 and latin_share("左转") == 0.0
    assert latin_share("tourne à droite") > 0.8  # accented Latin: the parser decides, not the script check


def test_probe_phrasings_are_in_neither_split() -> None:
    from ct1_sim.language.paraphrases import probe_phrases

    probe = probe_phrases()
    seen = {p.text for split in ("train", "test") for p in paraphrase_bank(split)}
    assert len(probe) >= 60 and not {p.text for p in probe} & seen
    assert {p.maneuver for p in probe} == set(CLASSES)
    speed_probe = probe_phrases("probe_speed")  # written before the speed templates grew: never to be trained on
    assert len(speed_probe) >= 25 and not {p.text for p in speed_probe} & seen
    assert {p.speed for p in speed_probe} >= {"slow_down", "speed_up", "keep_speed"}
