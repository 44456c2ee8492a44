"""CPU inference through ONNX Runtime: torch modules exported to ONNX graphs in memory, run by ORT sessions.

On a CPU with two cores the trajectory model's work is ~1,000 small ops per query; in eager PyTorch each
costs tens of microseconds of dispatch and thread fork/join, several times its arithmetic. The same modules
exported as one ONNX graph (the whole 10-step sampling loop unrolled, or the CNN) run under ONNX Runtime at
a fraction of that cost. The graphs are traced from the very modules that train, so there is one definition
of the model; tests check that both runtimes give the same samples.

Graphs are built on first use (seconds) and cached on the owning module, keyed by the shapes and settings
that are baked into them and by the parameters' in-place version counters, so a graph is rebuilt after
the weights change (an optimiser step or ``load_state_dict``).
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import warnings
from collections.abc import Callable, Iterator, Sequence

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


_GLOBAL_THREADS: int | None = None


def _use_global_threads(threads: int) -> bool:
    """Share one ONNX Runtime thread pool between all sessions of the process (set up by the first call).

    Each session otherwise owns a pool whose workers spin after a run; with several sessions on two cores
    (batch-1 and batched graphs, the CNN graph) they take the cores from each other: 18 ms became 46 ms."""
    global _GLOBAL_THREADS
    if _GLOBAL_THREADS is None:
        from onnxruntime.capi import _pybind_state

        try:
            _pybind_state.set_global_thread_pool_sizes(threads, 1)
            _GLOBAL_THREADS = threads
        except Exception as err:  # noqa: BLE001 - the runtime's environment already exists (another library made sessions first)
            log.debug("ONNX Runtime global thread pool not available (%s); sessions keep their own threads", err)
            _GLOBAL_THREADS = 0
    if _GLOBAL_THREADS and _GLOBAL_THREADS != threads:
        # once the process has the global pool, ONNX Runtime refuses sessions with threads of their own
        # ("use_per_session_threads must be false"): later sessions share it, at the size it was made with
        log.info("torch now uses %d threads; ONNX Runtime graphs keep the process's shared pool of %d", threads, _GLOBAL_THREADS)
    return _GLOBAL_THREADS > 0


def _options(ort, threads: int, shared: bool):  # ort: the onnxruntime module; -> ort.SessionOptions
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    if shared:
        options.use_per_session_threads = False
    else:
        options.intra_op_num_threads = threads
    return options


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
    shape is fixed by the example."""

    def __init__(self, owner: nn.Module, fn: Callable[..., torch.Tensor], inputs: Sequence[torch.Tensor], names: Sequence[str],
                 dynamic_batch: Sequence[str] = ()) -> None:
        import onnxruntime as ort

        self.names = list(names)
        buffer = io.BytesIO()
        axes = {name: {0: "batch"} for name in dynamic_batch}
        with _exportable():
            torch.onnx.export(_TracedCall(owner, fn), tuple(inputs), buffer, dynamo=False, input_names=self.names, output_names=["out"],
                              dynamic_axes=axes or None, opset_version=17)
        threads = torch.get_num_threads()
        self.session = None
        if _use_global_threads(threads):
            try:
                self.session = ort.InferenceSession(buffer.getvalue(), _options(ort, threads, shared=True), providers=["CPUExecutionProvider"])
            except Exception as err:  # noqa: BLE001 - ORT raises plain RuntimeErrors; per-session threads still work
                log.debug("shared ONNX Runtime threads refused (%s); this session gets its own", err)
        if self.session is None:
            self.session = ort.InferenceSession(buffer.getvalue(), _options(ort, threads, shared=False), providers=["CPUExecutionProvider"])

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
