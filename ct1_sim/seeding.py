"""One seeding rule for every entry point that takes a ``seed`` (Python API, CLI, HTTP service, ROS bridge, replay).

- ``seed`` a whole number in ``[0, MAX_SEED]``: deterministic. The same seed and inputs give the same samples on the
  same machine and runtime (ONNX Runtime and eager PyTorch agree to ~1e-4 m, not bit for bit).
- ``seed=None``: a fresh seed is drawn from OS entropy (:func:`fresh_seed`), used exactly like a given one, and reported
  back with the result (``Prediction.seed``, ``Rollout.seed``), so any run can be reproduced by passing that seed.

Nothing here reads or reseeds torch's or numpy's global random state. Training and evaluation take their seed from
their config or command line (default 0), so they are deterministic unless told otherwise.

Lower-level calls that take a ``torch.Generator`` instead of a seed (``CT1TrajectoryModel.sample``, the diffusers
pipelines) follow diffusers: a generator gives reproducible samples, ``None`` draws from torch's global generator.
"""

from __future__ import annotations

import secrets

import numpy as np
import torch

#: Largest seed accepted (``torch.Generator.manual_seed`` takes at most 2**64 - 1).
MAX_SEED = 2**64 - 1
#: Fresh seeds are drawn below this (32 bits: short enough to read off a log and type back).
FRESH_SEED_BOUND = 2**32


def fresh_seed() -> int:
    """A new seed from OS entropy, in ``[0, FRESH_SEED_BOUND)``."""
    return secrets.randbelow(FRESH_SEED_BOUND)


def resolve_seed(seed: int | None) -> int:
    """The seed a run uses: ``seed`` itself (checked), or a :func:`fresh_seed` when it is None."""
    if seed is None:
        return fresh_seed()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be a whole number in [0, 2**64 - 1] or None (a fresh one, reported back), got {seed!r}")
    return int(seed)


def torch_generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed`` (see :func:`resolve_seed`)."""
    return torch.Generator().manual_seed(seed)
