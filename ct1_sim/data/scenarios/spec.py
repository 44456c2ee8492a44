"""Scenario specifications (YAML): which families, how often, with which parameter ranges, which splits.

```yaml
name: urban                      # clip ids start with it
families:                        # family -> weight and parameter overrides (ranges are [low, high])
  intersection: {weight: 3, params: {distance_m: [4, 14], speed_mps: [4.5, 8.0]}}
  stop: {weight: 1}
splits: {train: 8, val: 1, test: 1}   # clip i goes to a split by i mod (sum of these)
clip: {num_poses: 16, rate_hz: 5.0, width: 448, height: 256, hfov_deg: 64.0}
```
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ct1_sim.clip_spec import CLIP_SPEC, ClipSpec
from ct1_sim.config_loading import ConfigError, check_keys, check_value, check_values, from_dict, read_yaml
from ct1_sim.data.scenarios.layouts import FAMILIES, FAMILY_PARAMS

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class ScenarioSpec:
    name: str
    families: dict[str, dict[str, Any]]  # family -> {"weight": float, "params": {...}}
    splits: dict[str, int] = field(default_factory=lambda: {"train": 8, "val": 1, "test": 1})
    clip: ClipSpec = CLIP_SPEC

    def assign(self, index: int) -> tuple[str, str]:
        """(family, split) of clip ``index``: split by ``index mod total``, family by a weighted hash."""
        total = sum(self.splits.values())
        r, split = index % total, "train"
        for name in SPLITS:
            if r < self.splits.get(name, 0):
                split = name
                break
            r -= self.splits.get(name, 0)
        weights = [(f, float(v.get("weight", 1.0))) for f, v in sorted(self.families.items())]
        h = int.from_bytes(hashlib.sha256(f"{self.name}|{index}".encode()).digest()[:8], "little") / 2**64
        acc, wsum = 0.0, sum(w for _, w in weights)
        for family, w in weights:
            acc += w / wsum
            if h < acc:
                return family, split
        return weights[-1][0], split

    def params(self, family: str) -> dict[str, Any]:
        return dict(self.families[family].get("params") or {})


def _check_params(path: Path, family: str, params: Any) -> dict[str, Any]:
    """Validate a family's ``params`` against :data:`FAMILY_PARAMS`; ranges become ``(low, high)`` floats."""
    if not isinstance(params, dict):
        raise ValueError(f"{path}: families.{family}.params must be a mapping, got {params!r}")
    known = FAMILY_PARAMS[family]
    out: dict[str, Any] = {}
    for key, value in params.items():
        where = f"{path}: families.{family}.params.{key}"
        if key not in known:
            raise ValueError(f"{where} is not a parameter of {family}; use {sorted(known)}")
        kind, allowed = known[key]
        if kind == "choice":
            if value not in allowed:
                raise ValueError(f"{where} must be one of {list(allowed)}, got {value!r}")
            out[key] = value
            continue
        pair = [value, value] if isinstance(value, int | float) else value
        if not (isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(v, int | float) for v in pair)):
            raise ValueError(f"{where} must be a number or a range [low, high], got {value!r}")
        if pair[0] > pair[1] or pair[0] < 0:
            raise ValueError(f"{where} must be a range [low, high] with 0 <= low <= high, got {value!r}")
        out[key] = (float(pair[0]), float(pair[1]))
    return out


def load_spec(path: str | Path) -> ScenarioSpec:
    """Read and validate a scenario YAML strictly (:mod:`ct1_sim.config_loading`); ``ValueError`` names the file and
    the bad key."""
    path = Path(path)
    data = read_yaml(path, example="scenarios/urban.yaml")
    if not data:
        raise ConfigError(f"{path} is empty; a spec needs name, families, splits and clip (see scenarios/urban.yaml)")
    return _parse_spec(path, data)


def _parse_spec(path: Path, data: dict[str, Any]) -> ScenarioSpec:
    source = str(path)
    check_keys(data, ("name", "description", "families", "splits", "clip"), source)
    check_value(data.get("description"), str | None, source, "description")
    name = check_value(data.get("name") or path.stem, str, source, "name")
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"{path}: name {name!r} must be letters, digits, '-' or '_' (it starts clip ids)")
    families = check_value(data.get("families") or {}, dict[str, dict[str, Any] | None], source, "families")
    if not families:
        raise ConfigError(f"{path}: 'families' must map family names to settings; families: {sorted(FAMILIES)}")
    for fam, settings in families.items():
        if fam not in FAMILIES:
            raise ConfigError(f"{path}: unknown family {fam!r}; choose from {sorted(FAMILIES)}")
        settings = check_values(settings or {}, {"weight": float, "params": dict[str, Any] | None}, source, f"families.{fam}")
        if settings.get("weight", 1.0) <= 0:
            raise ConfigError(f"{path}: families.{fam}.weight must be > 0")
        families[fam] = {**settings, "params": _check_params(path, fam, settings.get("params") or {})}
    splits = check_values(data.get("splits") or {"train": 8, "val": 1, "test": 1}, dict.fromkeys(SPLITS, int), source, "splits")
    if any(v < 0 for v in splits.values()) or sum(splits.values()) == 0:
        raise ConfigError(f"{path}: splits must give non-negative counts for {SPLITS}, got {splits}")
    clip = from_dict(ClipSpec, data.get("clip") or {}, source, "clip")
    return ScenarioSpec(name=name, families=families, splits=splits, clip=clip)
