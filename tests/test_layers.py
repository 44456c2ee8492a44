"""The layer map of ``ct1_sim/README.md``, enforced: every import in ``ct1_sim/`` goes down the layers.

Every import is read from the source (``ast``): module-level ones, those inside functions and ``TYPE_CHECKING``
blocks, ``importlib.import_module("ct1_sim....")`` with a literal name, and the submodules a
``lazy_exports(__name__, {...})`` table points at. The tests fail naming the file, the line and the rule.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ct1_sim"
ROOT = "ct1_sim"
GROUND = "ground"

#: Layer of every subpackage (ground = the top-level modules ``ct1_sim/*.py``); the README's table.
LAYERS: dict[str, int] = {
    GROUND: 0,
    "geometry": 1,
    "formats": 2,
    "metrics": 2,
    "language": 2,
    "data": 3,
    "viz": 4,
    "pretrained": 5,
    "trajectory": 6,
    "video": 6,
    "world": 7,
    "sim": 8,
    "replay": 9,
    "service": 9,
    "ros": 9,
    "export": 10,
    "cli": 11,
}
#: What code inside the package may import from the package root (it lazily exports every layer).
ROOT_NAMES = {"__version__"}
#: Packages that know nothing of torch (numpy/scipy only), and the distributions that would bring it in.
TORCH_FREE = ("geometry", "formats", "metrics", "language")
TORCH = {"torch", "torchvision", "diffusers", "transformers", "onnxruntime"}


@dataclass(frozen=True)
class Import:
    """One import in a file: the importing file, its line, the module imported and the names taken from it."""

    path: Path
    line: int
    module: str
    names: tuple[str, ...] = ()

    def where(self) -> str:
        return f"{self.path.relative_to(PACKAGE.parent)}:{self.line}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path) -> str:
    """The package a relative import in ``path`` is resolved against."""
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = _package_of(path).split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _literal_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _is_module(dotted: str) -> bool:
    """Whether ``ct1_sim.a.b`` names a module or package in the source tree."""
    rel = PACKAGE.parent.joinpath(*dotted.split("."))
    return rel.with_suffix(".py").exists() or (rel / "__init__.py").exists()


def imported_modules(tree: ast.AST) -> set[str]:
    """Every absolute module name an ``import`` or ``from ... import`` in ``tree`` names (any package)."""
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level}


def imports_of(path: Path, source: str | None = None) -> list[Import]:
    """Every ``ct1_sim`` import in one source file (``source``: its text, read from ``path`` when not given).

    ``from ct1_sim.x import y`` where ``y`` is itself a module counts as an import of ``ct1_sim.x.y``."""
    source = path.read_text(encoding="utf-8") if source is None else source
    found: list[Import] = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(path, node)
            names = []
            for alias in node.names:
                if _is_module(f"{module}.{alias.name}"):
                    found.append(Import(path, node.lineno, f"{module}.{alias.name}"))
                else:
                    names.append(alias.name)
            if names or not node.names:
                found.append(Import(path, node.lineno, module, tuple(names)))
        elif isinstance(node, ast.Call) and _call_name(node) == "import_module" and node.args:
            module = _literal_str(node.args[0])
            if module is not None:
                found.append(Import(path, node.lineno, module))
        elif isinstance(node, ast.Call) and _call_name(node) == "lazy_exports" and len(node.args) == 2:
            table = node.args[1]
            if isinstance(table, ast.Dict):
                for value in table.values:
                    sub = _literal_str(value)
                    if sub is not None:
                        found.append(Import(path, value.lineno, f"{_module_name(path)}.{sub}"))
    return [imp for imp in found if imp.module == ROOT or imp.module.startswith(ROOT + ".")]


def layer_package(module: str) -> str:
    """The map's package of a ``ct1_sim`` module: its first subpackage, or ``ground`` for a top-level module."""
    parts = module.split(".")
    if len(parts) == 1:
        return ROOT
    return GROUND if (PACKAGE / f"{parts[1]}.py").exists() else parts[1]


def violations(imp: Import) -> list[str]:
    """The rules of the layer map one import breaks (empty when it is allowed)."""
    src = layer_package(_module_name(imp.path))
    dst = layer_package(imp.module)
    if src == ROOT:  # the root's lazy exports may name every layer
        return []
    if dst == ROOT:
        bad = sorted(set(imp.names) - ROOT_NAMES) or ([] if imp.names else ["(the root package)"])
        return [(f"{imp.where()}: imports {', '.join(bad)} from the package root `ct1_sim`; only "
                 f"{', '.join(sorted(ROOT_NAMES))} may be (import it from its own package)")] if bad else []
    problems = []
    for name in (src, dst):
        if name not in LAYERS:
            problems.append(f"{imp.where()}: package `{name}` is not in the layer map; add it to ct1_sim/README.md "
                            "and to LAYERS in tests/test_layers.py")
    if problems or src == dst:
        return problems
    if LAYERS[dst] > LAYERS[src]:
        problems.append(f"{imp.where()}: `{src}` (layer {LAYERS[src]}) imports `{imp.module}` from `{dst}` "
                        f"(layer {LAYERS[dst]}): a package may import only lower layers")
    elif LAYERS[dst] == LAYERS[src]:
        problems.append(f"{imp.where()}: `{src}` imports `{imp.module}` from `{dst}`, on the same layer "
                        f"({LAYERS[src]}): packages on one layer never import each other")
    private = [part for part in imp.module.split(".")[1:] if part.startswith("_") and part != "__init__"]
    private += [name for name in imp.names if name.startswith("_")]
    if private:
        problems.append(f"{imp.where()}: `{src}` imports {', '.join(private)} from `{imp.module}`: a name "
                        "starting with _ is private to its package (export it, or move it where both can reach it)")
    return problems


def all_imports() -> list[Import]:
    return [imp for path in sorted(PACKAGE.rglob("*.py")) for imp in imports_of(path)]


def test_every_import_follows_the_layer_map() -> None:
    problems = [problem for imp in all_imports() for problem in violations(imp)]
    assert not problems, "imports against the layer map (ct1_sim/README.md):\n" + "\n".join(problems)


@pytest.mark.parametrize("package", TORCH_FREE)
def test_numpy_only_packages_import_no_torch(package: str) -> None:
    for path in sorted((PACKAGE / package).rglob("*.py")):
        heavy = {name for name in imported_modules(ast.parse(path.read_text(encoding="utf-8"))) if name.split(".")[0] in TORCH}
        assert not heavy, f"{path.relative_to(PACKAGE.parent)} imports {sorted(heavy)}: `{package}` is numpy/scipy only"


def _readme_table() -> dict[str, tuple[int, str]]:
    """The README's layer table: package -> (layer, what it holds)."""
    table: dict[str, tuple[int, str]] = {}
    for line in (PACKAGE / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].isdigit():
            name = GROUND if cells[1].startswith("ground") else cells[1].strip("`/")
            table[name] = (int(cells[0]), cells[2])
    return table


def test_every_subpackage_is_in_the_map() -> None:
    """Every folder of ``ct1_sim/`` with Python code in it (a package, or a namespace folder without
    ``__init__.py``) has a layer; data folders (``assets/``) have none."""
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__" and any(p.rglob("*.py"))}
    assert {"export", "language", "sim", "pretrained"} <= packages
    missing = sorted(packages - set(LAYERS))
    assert not missing, f"subpackages not in the layer map: {missing}; add them to ct1_sim/README.md and LAYERS"
    stale = sorted(set(LAYERS) - packages - {GROUND})
    assert not stale, f"the layer map names packages that do not exist: {stale}"


def test_the_readme_names_every_ground_module() -> None:
    """The ground row says what each top-level module holds: a new one is added there, a removed one taken out."""
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    named = set(re.findall(r"`([a-z_]+)`", _readme_table()[GROUND][1]))  # module names (not `ClipSpec`)
    assert not modules - named, f"ground modules the README's ground row does not name: {sorted(modules - named)}"
    assert not named - modules, f"the README's ground row names modules that do not exist: {sorted(named - modules)}"


def test_the_readme_table_is_the_map() -> None:
    """The README's table and ``LAYERS`` say the same thing."""
    assert {name: layer for name, (layer, _) in _readme_table().items()} == LAYERS


@pytest.mark.parametrize(
    ("rel", "source", "rule"),
    [
        ("viz/x.py", "def f():\n    from ct1_sim.video.encode import write_mp4\n", "may import only lower layers"),
        ("data/x.py", "from ..viz import draw_paths\n", "may import only lower layers"),
        ("video/x.py", "import ct1_sim.trajectory.checkpointing\n", "never import each other"),
        ("ros/x.py", "from ct1_sim.world.world_model import _medoid\n", "private to its package"),
        ("replay/x.py", "from ct1_sim.data.clip_store import _pid_alive\n", "private to its package"),
        ("service/x.py", "from ct1_sim import WorldModel\n", "from the package root"),
        ("metrics/x.py", "import importlib\nm = importlib.import_module('ct1_sim.trajectory')\n", "lower layers"),
        ("data/x/__init__.py", ("__all__, __getattr__, __dir__ = lazy_exports(__name__, {'f': 'y'})\n"
         "from ct1_sim.lazy_exports import lazy_exports\n"), None),
        ("geometry/x.py", "from ct1_sim.gone.thing import f\n", "not in the layer map"),
        ("data/x.py", "from ct1_sim import viz\n", "may import only lower layers"),
        ("formats/x.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ct1_sim.metrics import ade\n",
         "never import each other"),
        ("service/x.py", "from ct1_sim import __version__\nfrom ct1_sim.world import WorldModel\n", None),
        ("geometry/x.py", "from ct1_sim.rgb_input import as_rgb_array\nfrom . import rotations\n", None),
    ],
)
def test_the_checker_catches_each_kind_of_import(rel: str, source: str, rule: str | None) -> None:
    """The checker on small sources placed as ``ct1_sim/<rel>``: each rule fires on the import it is about, and
    allowed imports pass."""
    problems = [problem for imp in imports_of(PACKAGE / rel, source) for problem in violations(imp)]
    if rule is None:
        assert not problems
    else:
        assert problems and all(rule in p for p in problems), problems
        assert problems[0].startswith(f"ct1_sim/{rel}:"), problems


def test_the_root_exports_every_layer_lazily() -> None:
    """``import ct1_sim`` imports no subpackage; each exported name resolves to its package's object, and the
    exports cover every layer that has a public object."""
    code = ("import sys, ct1_sim; print(sorted(m for m in sys.modules if m.startswith('ct1_sim.')));"
            "print(sorted({getattr(ct1_sim, n).__module__.split('.')[1] for n in ct1_sim.__all__}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent,
                         env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout.splitlines()
    assert out[0] == "['ct1_sim.lazy_exports']"
    assert ast.literal_eval(out[1]) == sorted(set(LAYERS) - {GROUND, "pretrained", "sim", "cli"})
