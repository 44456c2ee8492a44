"""A few Prometheus metrics, written in the text exposition format (no client library needed)."""

from __future__ import annotations

import threading
from collections import defaultdict

#: Histogram buckets for request latency, seconds.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def unlabelled_values(text: str) -> dict[str, float]:
    """The unlabelled samples (gauges and counters without labels) of a Prometheus text exposition, by name: what
    :meth:`Metrics.render` wrote for :meth:`Metrics.gauge`, read back (benchmarks and tests)."""
    samples = [line.split() for line in text.splitlines() if line and not line.startswith("#") and "{" not in line]
    return {name: float(value) for name, value in samples}


class Metrics:
    """Counters by (name, labels) and one latency histogram per route; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self._hist: dict[str, list[int]] = {}
        self._sums: dict[str, float] = defaultdict(float)
        self._gauges: dict[str, float] = {}

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        with self._lock:
            self._counters[(name, tuple(sorted(labels.items())))] += amount

    def gauge(self, name: str, value: float) -> None:
        with self._lock:
            self._gauges[name] = value

    def observe(self, route: str, seconds: float) -> None:
        with self._lock:
            counts = self._hist.setdefault(route, [0] * (len(BUCKETS) + 1))
            for i, edge in enumerate(BUCKETS):
                if seconds <= edge:
                    counts[i] += 1
            counts[-1] += 1
            self._sums[route] += seconds

    def render(self) -> str:
        """The metrics in Prometheus text format 0.0.4."""
        lines: list[str] = []
        with self._lock:
            names = sorted({n for n, _ in self._counters})
            for name in names:
                lines.append(f"# TYPE {name} counter")
                for (n, labels), value in sorted(self._counters.items()):
                    if n == name:
                        lab = ",".join(f'{k}="{v}"' for k, v in labels)
                        lines.append(f"{name}{{{lab}}} {value:g}" if lab else f"{name} {value:g}")
            for name, value in sorted(self._gauges.items()):
                lines += [f"# TYPE {name} gauge", f"{name} {value:g}"]
            if self._hist:
                lines.append("# TYPE ct1_request_seconds histogram")
            for route, counts in sorted(self._hist.items()):
                for edge, c in zip(BUCKETS, counts, strict=False):
                    lines.append(f'ct1_request_seconds_bucket{{route="{route}",le="{edge:g}"}} {c}')
                lines.append(f'ct1_request_seconds_bucket{{route="{route}",le="+Inf"}} {counts[-1]}')
                lines.append(f'ct1_request_seconds_sum{{route="{route}"}} {self._sums[route]:.6f}')
                lines.append(f'ct1_request_seconds_count{{route="{route}"}} {counts[-1]}')
        return "\n".join(lines) + "\n"
