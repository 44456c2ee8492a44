"""A light HTTP load client for the service benchmarks, meant to run in its own process:
``python benchmarks/http_load.py URL IMAGE_FILE --clients N --per-client M`` prints one JSON line
``{"wall_s": ..., "latencies_s": [...], "server_timing_ms": [...], "errors": [...], "cpu_s": ...}`` (``cpu_s``: this client
process's CPU time while it sent them; ``server_timing_ms``: each response's ``Server-Timing`` entries, in the order
of ``latencies_s``).

Each of the N threads keeps one keep-alive connection and sends M ``POST /v1/trajectories`` back to back (K=8, the
seed varies per request). The multipart body is built once with the seed as the only part that changes, and the
response is read but not parsed: a client in the server's own process, or one that builds each request with
``requests``, takes the GIL and a good part of a core from the server it measures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

BOUNDARY = "ct1simbenchboundary"
INSTRUCTION = "turn left at the next intersection"


def _field(name: str, value: str) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


def multipart_body(image: bytes, filename: str, seed: int, samples: int = 8, speed: float = 6.0) -> bytes:
    """The form the service takes: image, instruction, samples, seed, speed."""
    kind = "image/jpeg" if filename.lower().endswith((".jpg", ".jpeg")) else "image/png"
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\n'
            f"Content-Type: {kind}\r\n\r\n").encode()
    return b"".join([head, image, b"\r\n", _field("instruction", INSTRUCTION), _field("samples", str(samples)),
                     _field("seed", str(seed)), _field("speed", str(speed)), f"--{BOUNDARY}--\r\n".encode()])


def parse_server_timing(value: str) -> dict[str, float]:
    """``"decode;dur=1.9, sample;dur=16.2"`` -> ``{"decode": 1.9, "sample": 16.2}`` (ms; entries without a duration left out)."""
    out = {}
    for entry in value.split(","):
        name, _, params = entry.strip().partition(";")
        for param in params.split(";"):
            key, _, number = param.strip().partition("=")
            if key == "dur" and name:
                out[name] = float(number)
    return out


def load(url: str, image: bytes, filename: str, clients: int, per_client: int) -> dict[str, object]:
    """Latencies (s) of every request and the wall time of the whole run."""
    parts = urlsplit(url)
    latencies: list[float] = []
    timings: list[dict[str, float]] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(c: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
        bodies = [multipart_body(image, filename, c * 1000 + i) for i in range(per_client)]
        headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        start.wait()
        mine, mine_timings = [], []
        try:
            for body in bodies:
                t0 = time.perf_counter()
                conn.request("POST", "/v1/trajectories", body=body, headers=headers)
                response = conn.getresponse()
                response_body = response.read()
                mine.append(time.perf_counter() - t0)
                mine_timings.append(parse_server_timing(response.getheader("Server-Timing") or ""))
                if response.status != 200:
                    raise RuntimeError(f"HTTP {response.status}: {response_body[:200]!r}")
        except Exception as err:  # noqa: BLE001 - reported to the parent, which fails the benchmark
            with lock:
                errors.append(f"client {c}: {err}")
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)
            timings.extend(mine_timings)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0, cpu0 = time.perf_counter(), time.process_time()
    for t in threads:
        t.join()
    return {"wall_s": time.perf_counter() - t0, "latencies_s": latencies, "server_timing_ms": timings, "errors": errors,
            "cpu_s": time.process_time() - cpu0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("image", type=Path)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--per-client", type=int, default=10)
    args = parser.parse_args(argv)
    result = load(args.url, args.image.read_bytes(), args.image.name, args.clients, args.per_client)
    print(json.dumps(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
