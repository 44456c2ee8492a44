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
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from ct1_sim.data.scenarios.clip_spec import ClipSpec
from ct1_sim.data.scenarios.layouts import FAMILIES, FAMILY_PARAMS

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class ScenarioSpec:
    name: str
    families: dict[str, dict[str, Any]]  # family -> {"weight": float, "params": {...}}
    splits: dict[str, int] = field(default_factory=lambda: {"train": 8, "val": 1, "test": 1})
    clip: ClipSpec = ClipSpec()

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
    """Read and validate a scenario YAML; ``ValueError`` names the file and the bad key."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no scenario spec at {path}; see scenarios/*.yaml")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not a valid YAML text file: {err}") from None
    if not data:
        raise ValueError(f"{path} is empty; a spec needs name, families, splits and clip (see scenarios/urban.yaml)")
    try:
        return _parse_spec(path, data)
    except (TypeError, AttributeError) as err:  # a value of the wrong kind somewhere below the checked keys
        raise ValueError(f"{path}: a value has the wrong type ({err}); compare with scenarios/urban.yaml") from None


def _parse_spec(path: Path, data: object) -> ScenarioSpec:
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with name, families, splits, clip")
    unknown = sorted(set(data) - {"name", "families", "splits", "clip", "description"})
    if unknown:
        raise ValueError(f"{path}: unknown keys {unknown}; use name, description, families, splits, clip")
    name = str(data.get("name") or path.stem)
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"{path}: name {name!r} must be letters, digits, '-' or '_' (it starts clip ids)")
    families = data.get("families") or {}
    if not isinstance(families, dict) or not families:
        raise ValueError(f"{path}: 'families' must map family names to settings; families: {sorted(FAMILIES)}")
    for fam, settings in families.items():
        if fam not in FAMILIES:
            raise ValueError(f"{path}: unknown family {fam!r}; choose from {sorted(FAMILIES)}")
        settings = settings or {}
        families[fam] = settings
        bad = sorted(set(settings) - {"weight", "params"})
        if bad:
            raise ValueError(f"{path}: families.{fam} has unknown keys {bad}; use weight and params")
        if float(settings.get("weight", 1.0)) <= 0:
            raise ValueError(f"{path}: families.{fam}.weight must be > 0")
        settings["params"] = _check_params(path, fam, settings.get("params") or {})
    splits = data.get("splits") or {"train": 8, "val": 1, "test": 1}
    bad = sorted(set(splits) - set(SPLITS))
    if bad or any(int(v) < 0 for v in splits.values()) or sum(int(v) for v in splits.values()) == 0:
        raise ValueError(f"{path}: splits must give non-negative counts for {SPLITS}, got {splits}")
    clip_data = data.get("clip") or {}
    if not isinstance(clip_data, dict):
        raise ValueError(f"{path}: clip must be a mapping such as {{num_poses: 16, rate_hz: 5.0, width: 448, height: 256}}")
    unknown_clip = sorted(set(clip_data) - {f.name for f in fields(ClipSpec)})
    if unknown_clip:
        raise ValueError(f"{path}: unknown clip keys {unknown_clip}; use {[f.name for f in fields(ClipSpec)]}")
    try:
        clip = ClipSpec(**clip_data)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: bad clip settings: {err}") from None
    return ScenarioSpec(name=name, families=families, splits={k: int(v) for k, v in splits.items()}, clip=clip)
