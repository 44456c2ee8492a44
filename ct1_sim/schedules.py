"""Learning-rate schedules shared by the trainers."""

from __future__ import annotations

import math


def warmup_cosine_lr(step: int, lr: float, warmup_steps: int, total_steps: int, floor: float = 0.05) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``floor * lr`` at ``total_steps``."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))
