"""Checks of raw instruction text, shared by every transport: what is rejected outright (with the fix) and what
script it is written in."""

from __future__ import annotations

import unicodedata

#: Longest instruction accepted (characters, after trimming).
MAX_INSTRUCTION_CHARS = 500
EXAMPLE = "'turn left at the intersection'"


class InstructionError(ValueError):
    """An instruction that cannot be read at all; the message names the problem and the fix."""


def check_instruction_text(text: object, name: str = "instruction") -> str:
    """``text`` trimmed, with runs of whitespace made single spaces; :class:`InstructionError` when it is not a string,
    empty, longer than :data:`MAX_INSTRUCTION_CHARS`, holds control characters, or has no letter at all."""
    if not isinstance(text, str):
        raise InstructionError(f"{name} must be a string such as {EXAMPLE}, got {type(text).__name__}")
    controls = sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in ("Cc", "Cf") and c not in "\t\n\r"})
    if controls:
        raise InstructionError(f"{name} holds control characters ({', '.join(controls[:5])}): send plain text such as {EXAMPLE}")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InstructionError(f"{name} is empty: give one such as {EXAMPLE}")
    if len(cleaned) > MAX_INSTRUCTION_CHARS:
        raise InstructionError(f"{name} is {len(cleaned)} characters long; at most {MAX_INSTRUCTION_CHARS} are accepted")
    if not any(unicodedata.category(c).startswith("L") for c in cleaned):
        raise InstructionError(f"{name} {cleaned[:40]!r} has no words (letters): give one such as {EXAMPLE}")
    return cleaned


def latin_share(text: str) -> float:
    """Share (0..1) of the letters of ``text`` that are basic Latin (a-z, A-Z)."""
    letters = [c for c in text if unicodedata.category(c).startswith("L")]
    if not letters:
        return 0.0
    return sum(c.isascii() for c in letters) / len(letters)
