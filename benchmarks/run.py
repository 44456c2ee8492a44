"""Run ct1-sim benchmarks: ``python benchmarks/run.py [NAME ...] [--quick]``.

NAME is the part after ``bench_`` in ``benchmarks/bench_<name>.py``; without names every benchmark runs.
With several names each benchmark runs in a fresh interpreter, one after another, so that what one leaves behind
(idle thread pools, a Twisted reactor, Ray's driver threads, warmed caches) cannot slow or speed up the next:
in one shared process the trajectory benchmark measured p50 17.6 ms after the others, 11.4-12.9 ms alone. A failing
benchmark is reported and the others still run; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def _run_alone(name: str, quick: bool) -> int:
    """Run one benchmark in a fresh interpreter; its exit status.

    On Ctrl-C the child (same terminal, same signal) is waited for, so that it can stop the servers it started."""
    child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), name, *(["--quick"] if quick else [])])
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.wait()
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {available()})")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {available()}")
    if len(names) > 1:
        failed = {}
        for name in names:
            code = _run_alone(name, args.quick)
            if code:
                failed[name] = code
        if failed:
            print(f"benchmarks failed (exit status; negative = killed by that signal): {failed}", file=sys.stderr)
        return 1 if failed else 0
    sys.path.insert(0, str(HERE))
    importlib.import_module(f"bench_{names[0]}").run(quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
