"""Run ct1-sim benchmarks: ``python benchmarks/run.py [NAME ...] [--quick]``.

NAME is the part after ``bench_`` in ``benchmarks/bench_<name>.py``; without names every benchmark runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {available()})")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {available()}")
    sys.path.insert(0, str(HERE))
    for name in names:
        module = importlib.import_module(f"bench_{name}")
        module.run(quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
