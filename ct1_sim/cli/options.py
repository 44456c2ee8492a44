"""Checks shared by several commands' options."""

from __future__ import annotations


def pixel_size(width: int | None, height: int | None) -> tuple[int, int] | None:
    """``(width, height)`` from ``--width``/``--height``, None when neither is given; an error naming the fix
    when only one is."""
    if (width is None) != (height is None):
        raise ValueError("give both --width and --height, or neither")
    return (width, height) if width is not None and height is not None else None
