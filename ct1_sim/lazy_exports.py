"""Lazy package exports: a package names what it exports and from which submodule; importing the package
stays cheap and each name imports its submodule on first use (PEP 562)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for ``package`` whose ``exports`` map a name to the
    submodule (relative to ``package``) that defines it."""
    names = sorted(exports)

    def __getattr__(name: str) -> Any:  # PEP 562's module hook
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    def __dir__() -> list[str]:
        return names

    return names, __getattr__, __dir__
