"""Instruction language, torch-free: intents (what an instruction asks for), the paraphrase bank (train / held-out
test phrasings that share no template) and checks of raw instruction text. The parser that maps text to an
intent is a model and lives in :mod:`ct1_sim.trajectory.instruction_parser`."""

from ct1_sim.language.intents import (
    CLASSES,
    INSTRUCTION_KEY_INTENTS,
    MANEUVERS,
    SPEEDS,
    UNSUPPORTED,
    Intent,
    refusal_message,
    swap_sides,
)
from ct1_sim.language.paraphrases import Phrase, held_out_phrasing, paraphrase_bank
from ct1_sim.language.text_checks import (
    MAX_INSTRUCTION_CHARS,
    InstructionError,
    check_instruction_text,
    latin_share,
)

__all__ = [
    "CLASSES",
    "INSTRUCTION_KEY_INTENTS",
    "MANEUVERS",
    "MAX_INSTRUCTION_CHARS",
    "SPEEDS",
    "UNSUPPORTED",
    "InstructionError",
    "Intent",
    "Phrase",
    "check_instruction_text",
    "held_out_phrasing",
    "latin_share",
    "paraphrase_bank",
    "refusal_message",
    "swap_sides",
]
