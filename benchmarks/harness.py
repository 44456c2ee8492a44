"""Shared helpers for ct1-sim benchmarks: timing, a printed table and one JSON line of ratios.

Every benchmark module ``benchmarks/bench_<name>.py`` defines ``run(quick: bool) -> dict`` that prints
its table and returns the figures; ``benchmarks/run.py`` calls them and prints
``BENCH {"name": ..., ...}`` lines. Ratios are measured in one run (ours vs a baseline on this
machine), since absolute numbers on shared machines are noisy.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence


def time_call(fn: Callable[[], object], *, repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time (s) of ``fn()`` over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a fixed-width table."""
    cells = [list(map(str, header))] + [[f"{c:.4g}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n== {title} ==")
    for i, r in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def emit_json(name: str, figures: dict[str, object]) -> None:
    """Print the machine-readable line ``BENCH {...}`` for one benchmark."""
    print("BENCH " + json.dumps({"name": name, **figures}, sort_keys=True))


def matmul_flops(n: int = 1024, repeat: int = 20) -> float:
    """This machine's measured float32 matmul FLOP/s (an ``n`` x ``n`` product, median-free mean over ``repeat``)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    t0 = time.perf_counter()
    for _ in range(repeat):
        a @ b
    return 2 * n**3 * repeat / (time.perf_counter() - t0)
