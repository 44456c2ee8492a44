"""Procedural surface textures (numpy, fixed seed): one mipmapped texture array the scene shader samples.

Each layer is a tileable 256x256 RGBA8 image. RGB is a *modulation* of the vertex colour (0.5 = unchanged,
the shader multiplies by ``2 * rgb``); alpha is a mask whose meaning depends on the layer (glass for
facades, paint for road wear). Mipmaps filter the patterns with distance, so windows and slabs do not
alias at 448x256. The textures never depend on a clip's seed: the same renderer gives the same pixels.
"""

from __future__ import annotations

import numpy as np

SIZE = 256
#: Layer index of each texture in the array (the shader uses the same numbers).
LAYERS = ("asphalt", "grass", "slabs", "facade", "facade_office", "foliage", "noise", "bark")
LAYER = {name: i for i, name in enumerate(LAYERS)}
#: World metres covered by one tile of a ground texture (the shader divides world x, y by these).
TILE_M = {"asphalt": 8.0, "grass": 6.0, "slabs": 3.0, "foliage": 2.5, "noise": 4.0}
#: One facade tile is one window bay: width x storey height (m).
FACADE_BAY_M = (2.6, 3.1)
OFFICE_BAY_M = (1.8, 3.6)


def _value_noise(rng: np.random.Generator, cells: int, size: int = SIZE) -> np.ndarray:
    """Tileable smooth noise in [0, 1] ``(size, size)`` from a ``cells x cells`` random lattice."""
    lattice = rng.random((cells, cells))
    x = np.arange(size) * cells / size
    i0 = np.floor(x).astype(int)
    f = x - i0
    f = f * f * (3 - 2 * f)
    i1 = (i0 + 1) % cells
    # bilinear with smoothstep weights; rows then columns
    rows = lattice[i0][:, i0] * (1 - f)[None, :] + lattice[i0][:, i1] * f[None, :]
    rows1 = lattice[i1][:, i0] * (1 - f)[None, :] + lattice[i1][:, i1] * f[None, :]
    return rows * (1 - f)[:, None] + rows1 * f[:, None]


def _fbm(rng: np.random.Generator, base_cells: int, octaves: int = 4) -> np.ndarray:
    out, amp, total = np.zeros((SIZE, SIZE)), 1.0, 0.0
    for o in range(octaves):
        out += amp * _value_noise(rng, base_cells * 2**o)
        total += amp
        amp *= 0.55
    out /= total
    return (out - out.mean()) / max(out.std(), 1e-6)  # zero mean, unit std


def _to_rgba(mod: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """Modulation ``(S,S)`` or ``(S,S,3)`` around 1.0 -> uint8 RGBA (stored halved)."""
    if mod.ndim == 2:
        mod = np.repeat(mod[..., None], 3, axis=2)
    a = np.ones(mod.shape[:2]) if alpha is None else alpha
    rgba = np.concatenate([np.clip(mod / 2.0, 0, 1), np.clip(a, 0, 1)[..., None]], axis=2)
    return np.round(rgba * 255).astype(np.uint8)


def _asphalt(rng: np.random.Generator) -> np.ndarray:
    blotch = _fbm(rng, 4)
    grain = rng.standard_normal((SIZE, SIZE))
    mod = 1.0 + 0.10 * blotch + 0.07 * grain
    # tar-sealed cracks: thin dark random walks
    for _ in range(3):
        p = rng.uniform(0, SIZE, 2)
        d = rng.uniform(0, 2 * np.pi)
        for _ in range(int(rng.integers(60, 160))):
            d += rng.normal(0, 0.35)
            p = (p + [np.cos(d), np.sin(d)]) % SIZE
            mod[int(p[1]), int(p[0])] *= 0.7
    return _to_rgba(mod)


def _grass(rng: np.random.Generator) -> np.ndarray:
    patches = _fbm(rng, 3)
    fine = _fbm(rng, 32, 2)
    lum = 1.0 + 0.18 * patches + 0.12 * fine
    tint = np.stack([1.0 + 0.10 * patches, np.ones_like(patches), 1.0 - 0.08 * patches], axis=2)  # dry vs lush
    return _to_rgba(lum[..., None] * tint)


def _slabs(rng: np.random.Generator) -> np.ndarray:
    """Sidewalk: 2 x 2 slabs of 1.5 m per tile with dark seams and slight per-slab shade."""
    mod = 1.0 + 0.06 * _fbm(rng, 16, 3)
    half = SIZE // 2
    for i in range(2):
        for j in range(2):
            mod[i * half:(i + 1) * half, j * half:(j + 1) * half] *= rng.uniform(0.93, 1.07)
    seam = np.zeros((SIZE, SIZE), bool)
    for k in (0, half):
        seam[k:k + 3, :] = True
        seam[:, k:k + 3] = True
    mod[seam] *= 0.65
    return _to_rgba(mod)


def _facade(rng: np.random.Generator, office: bool) -> np.ndarray:
    """One window bay: wall around a glass pane (alpha 1 on glass), a frame and a sill."""
    u = (np.arange(SIZE) + 0.5) / SIZE
    uu, vv = np.meshgrid(u, u)  # vv: 0 at the bottom of the storey (texture rows go up with v)
    wall = 1.0 + 0.06 * _fbm(rng, 8, 3)
    if office:  # curtain wall: wide glass, thin mullions, a spandrel band
        glass = (np.abs(uu - 0.5) < 0.44) & (vv > 0.30) & (vv < 0.95)
        frame = (np.abs(uu - 0.5) < 0.47) & (vv > 0.27) & (vv < 0.97) & ~glass
    else:
        glass = (np.abs(uu - 0.5) < 0.22) & (vv > 0.33) & (vv < 0.80)
        frame = (np.abs(uu - 0.5) < 0.25) & (vv > 0.30) & (vv < 0.83) & ~glass
        sill = (np.abs(uu - 0.5) < 0.28) & (vv > 0.27) & (vv <= 0.30)
        wall[sill] = 1.25
    wall[frame] = 0.55 if office else 1.35
    # glass: a vertical gradient (reflection) and a darker lower part; the shader mixes in the sky
    g = 0.55 + 0.35 * vv + 0.05 * rng.standard_normal((SIZE, SIZE))
    mod = np.where(glass, g, wall)
    return _to_rgba(mod, glass.astype(float))


def _foliage(rng: np.random.Generator) -> np.ndarray:
    clumps = _fbm(rng, 8, 3)
    leaves = rng.standard_normal((SIZE, SIZE))
    lum = np.clip(1.0 + 0.30 * clumps + 0.12 * leaves, 0.35, 1.8)
    tint = np.stack([1.0 - 0.1 * clumps, np.ones_like(clumps), 1.0 - 0.15 * clumps], axis=2)
    return _to_rgba(lum[..., None] * tint)


def _noise(rng: np.random.Generator) -> np.ndarray:
    return _to_rgba(1.0 + 0.12 * _fbm(rng, 4, 4))


def _bark(rng: np.random.Generator) -> np.ndarray:
    streaks = _value_noise(rng, 32)[:, :1].repeat(SIZE, axis=1).T  # vertical streaks
    return _to_rgba(1.0 + 0.25 * (streaks - 0.5) + 0.08 * rng.standard_normal((SIZE, SIZE)))


def texture_layers(seed: int = 7) -> np.ndarray:
    """All layers, ``(len(LAYERS), SIZE, SIZE, 4)`` uint8, deterministic."""
    rng = np.random.default_rng(seed)
    makers = {"asphalt": _asphalt, "grass": _grass, "slabs": _slabs, "facade": lambda r: _facade(r, False),
              "facade_office": lambda r: _facade(r, True), "foliage": _foliage, "noise": _noise, "bark": _bark}
    return np.stack([makers[name](rng) for name in LAYERS])
