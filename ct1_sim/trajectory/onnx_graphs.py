"""CPU inference through ONNX Runtime: torch modules exported to ONNX graphs in memory, run by ORT sessions.

On a CPU with two cores the trajectory model's work is ~1,000 small ops per query; in eager PyTorch each
costs tens of microseconds of dispatch and thread fork/join, several times its arithmetic. The same modules
exported as one ONNX graph (the whole 10-step sampling loop unrolled, or the CNN) run under ONNX Runtime at
a fraction of that cost. The graphs are traced from the very modules that train, so there is one definition
of the model; tests check that both runtimes give the same samples.

Graphs are built on first use (seconds) and cached on the owning module, keyed by the shapes and settings
that are baked into them and by the parameters' in-place version counters, so a graph is rebuilt after
the weights change (an optimiser step or ``load_state_dict``).

The sampling graphs run single-threaded, in lanes (:func:`run_in_lanes`): a query's K samples, or a batch's
queries, are split over one run per core, side by side. Only the CNN graph (training, evaluation) keeps a
multi-threaded session, so no two sessions' worker pools spin against each other.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)

RUNTIMES = ("auto", "torch", "onnxruntime")


@functools.cache
def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_runtime(runtime: str, device: torch.device, dtype: torch.dtype) -> str:
    """``"auto"`` -> ``"onnxruntime"`` for float32 on the CPU when it is installed, else ``"torch"``.

    ``"onnxruntime"`` is refused for other devices or dtypes (the graphs are float32 CPU graphs)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; use one of {RUNTIMES}")
    cpu_fp32 = device.type == "cpu" and dtype == torch.float32
    if runtime == "auto":
        return "onnxruntime" if cpu_fp32 and onnxruntime_available() else "torch"
    if runtime == "onnxruntime":
        if not cpu_fp32:
            raise ValueError(f"runtime 'onnxruntime' runs float32 on the CPU, not {dtype} on {device}; use runtime='torch'")
        if not onnxruntime_available():
            raise ValueError("runtime 'onnxruntime' needs the onnxruntime package: pip install onnxruntime")
    return runtime


@contextlib.contextmanager
def _exportable() -> Iterator[None]:
    """Trace with plain ops: no fused transformer fast path (no ONNX equivalent), no autograd, quiet tracer."""
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def _options(ort, threads: int):  # ort: the onnxruntime module; -> ort.SessionOptions
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    options.intra_op_num_threads = threads
    return options


def lane_count() -> int:
    """How many single-threaded graph runs go side by side (:func:`run_in_lanes`): torch's intra-op thread count, one per
    core the process may use."""
    return max(1, torch.get_num_threads())


def split_sizes(n: int, lanes: int) -> list[int]:
    """``n`` items dealt into at most ``lanes`` contiguous chunks as even as can be, larger first: 8, 2 -> [4, 4]; 3, 2 -> [2, 1]."""
    lanes = max(1, min(lanes, n))
    return [n // lanes + (i < n % lanes) for i in range(lanes)]


_LANES: ThreadPoolExecutor | None = None
_LANES_SIZE = 0
_LANES_LOCK = threading.Lock()


def run_in_lanes(calls: Sequence[Callable[[], torch.Tensor]]) -> list[torch.Tensor]:
    """Each call's result, in order; the calls run side by side, the first on the calling thread, the others on worker
    threads (ONNX Runtime releases the GIL while a graph runs, and a session may run on several threads at once).
    Every call has ended when this returns or raises (the first error is raised).

    Two single-threaded runs of half a batch each do ~10 % more queries per second on two cores than one run of the
    whole batch on two threads: a run's thousands of small ops each pay a fork/join across the threads."""
    if len(calls) == 1:
        return [calls[0]()]
    global _LANES, _LANES_SIZE
    with _LANES_LOCK:
        if _LANES is None or _LANES_SIZE < len(calls) - 1:
            if _LANES is not None:
                _LANES.shutdown(wait=False)
            _LANES, _LANES_SIZE = ThreadPoolExecutor(max_workers=len(calls) - 1, thread_name_prefix="ct1-lane"), len(calls) - 1
        pool = _LANES
    futures = [pool.submit(call) for call in calls[1:]]
    try:
        first = calls[0]()
    finally:
        wait(futures)  # no lane outlives the call, whatever failed
    return [first, *(future.result() for future in futures)]


class _TracedCall(nn.Module):
    """``fn(*inputs)`` as a module to trace, with ``owner`` (whose weights ``fn`` uses) as its submodule."""

    def __init__(self, owner: nn.Module, fn: Callable[..., torch.Tensor]) -> None:
        super().__init__()
        self.owner, self.fn = owner, fn

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.fn(*inputs)


class OrtGraph:
    """An ONNX Runtime session for ``fn(*inputs)``, a computation on ``owner``'s weights, traced with the example
    ``inputs`` (float32, CPU).

    ``dynamic_batch`` names the inputs whose first axis may change between calls (the batch); every other
    shape is fixed by the example. ``threads``: the session's intra-op threads (None: torch's thread count); a
    one-thread session runs on the calling thread, with no pool of its own, and several threads may run it at once."""

    def __init__(self, owner: nn.Module, fn: Callable[..., torch.Tensor], inputs: Sequence[torch.Tensor], names: Sequence[str],
                 dynamic_batch: Sequence[str] = (), threads: int | None = None) -> None:
        import onnxruntime as ort

        self.names = list(names)
        buffer = io.BytesIO()
        axes = {name: {0: "batch"} for name in dynamic_batch}
        with _exportable():
            torch.onnx.export(_TracedCall(owner, fn), tuple(inputs), buffer, dynamo=False, input_names=self.names, output_names=["out"],
                              dynamic_axes=axes or None, opset_version=17)
        threads = torch.get_num_threads() if threads is None else threads
        self.session = ort.InferenceSession(buffer.getvalue(), _options(ort, threads), providers=["CPUExecutionProvider"])

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        feeds = {name: np.ascontiguousarray(x.detach().cpu().numpy()) for name, x in zip(self.names, inputs, strict=True)}
        return torch.from_numpy(self.session.run(None, feeds)[0])


class GraphCache:
    """Graphs built for one module, keyed by what is baked into them; dropped when the module's weights change.

    The weights' identity is the storage address and in-place version counter of each parameter and buffer
    (one of them changes on an optimiser step, ``load_state_dict`` or ``.to()``), read from a tensor list taken
    when the cache was filled: walking the module tree on every call costs milliseconds.
    Sessions are not picklable and are cheap to rebuild, so a pickled or deep-copied cache comes back empty."""

    def __init__(self) -> None:
        self.graphs: dict[tuple, OrtGraph] = {}
        self.tensors: list[torch.Tensor] = []
        self.version: list[tuple[int, int]] = []

    def __getstate__(self) -> dict:
        return {"graphs": {}, "tensors": [], "version": []}

    def _current(self) -> list[tuple[int, int]]:
        return [(t.data_ptr(), t._version) for t in self.tensors]

    def get(self, owner: nn.Module, key: tuple, build: Callable[[], OrtGraph]) -> OrtGraph:
        if not self.graphs or self._current() != self.version:
            self.graphs.clear()
            self.tensors = [*owner.parameters(), *owner.buffers()]
            self.version = self._current()
        if key not in self.graphs:
            shown = tuple(k if isinstance(k, (str, int, float, bool, type(None))) else type(k).__name__ for k in key)
            log.info("building the ONNX Runtime graph for %s %s", type(owner).__name__, shown)  # one line: no config dumps
            self.graphs[key] = build()
        return self.graphs[key]


def cached_graph(owner: nn.Module, key: tuple, build: Callable[[], OrtGraph]) -> OrtGraph:
    """The graph cached on ``owner`` under ``key``, built when missing or when the owner's weights changed since.
    The cache lives outside ``state_dict`` and ``.to()``, and pickles empty."""
    cache = owner.__dict__.get("_ort_graphs")
    if cache is None:
        cache = owner.__dict__["_ort_graphs"] = GraphCache()
    return cache.get(owner, key, build)
