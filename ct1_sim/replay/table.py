"""A small column table on disk (zarr v3; pyarrow/Parquet is not a ct1-sim dependency).

Layout::

    TABLE.zarr/
      zarr.json        attrs: format, version, columns (name -> "float64" | "int64" | "str"), rows,
                       and the values of the string columns (short labels, kept as JSON lists)
      <column>         one 1-D array per numeric column
      <array>          extra N-D arrays (e.g. predicted poses), first axis = rows

Read with :func:`read_table` (``dict[name, np.ndarray]``) or ``zarr.open_group`` from any language.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import zarr

FORMAT_NAME = "ct1-sim-table"
FORMAT_VERSION = 1


def _kind(values: list) -> str:
    if all(isinstance(v, str) for v in values):
        return "str"
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return "int64"
    return "float64"


def write_table(path: str | Path, rows: list[dict], arrays: dict[str, np.ndarray] | None = None) -> Path:
    """Write ``rows`` (dicts with the same keys; str / int / float values) and ``arrays`` to ``path``."""
    path = Path(path)
    columns = list(rows[0]) if rows else []
    for i, r in enumerate(rows):
        if list(r) != columns:
            raise ValueError(f"table row {i} has columns {list(r)}, expected {columns}")
    kinds = {c: _kind([r[c] for r in rows]) for c in columns}
    g = zarr.open_group(str(path), mode="w")
    strings = {}
    for c in columns:
        if kinds[c] == "str":
            strings[c] = [r[c] for r in rows]
            continue
        data = np.array([r[c] for r in rows], dtype=kinds[c])
        g.create_array(c, shape=data.shape, dtype=data.dtype)[:] = data
    for name, value in (arrays or {}).items():
        if name in kinds:
            raise ValueError(f"array {name!r} clashes with a column of the same name")
        value = np.asarray(value)
        if len(value) != len(rows):
            raise ValueError(f"array {name!r} has {len(value)} rows, the table {len(rows)}")
        g.create_array(name, shape=value.shape, dtype=value.dtype)[:] = value
    g.attrs.update({"format": FORMAT_NAME, "version": FORMAT_VERSION, "columns": kinds, "rows": len(rows),
                    "strings": strings, "arrays": sorted(arrays or {})})
    return path


def read_table(path: str | Path, arrays: bool = False) -> dict[str, np.ndarray]:
    """Columns of the table at ``path`` (string columns as ``<U`` arrays); with ``arrays`` the extra arrays too."""
    path = Path(path)
    if not (path / "zarr.json").is_file():
        raise FileNotFoundError(f"no table at {path} (no zarr.json); replay writes keyframes.zarr under its --out")
    g = zarr.open_group(str(path), mode="r")
    attrs = json.loads(json.dumps(dict(g.attrs)))
    if attrs.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} is not a ct1-sim table (format={attrs.get('format')!r})")
    out: dict[str, np.ndarray] = {}
    for c, kind in attrs["columns"].items():
        out[c] = np.array(attrs["strings"][c], dtype=str) if kind == "str" else g[c][:]
    if arrays:
        for name in attrs["arrays"]:
            out[name] = g[name][:]
    return out


def table_rows(table: dict[str, np.ndarray], columns: list[str] | None = None) -> list[dict]:
    """The table as a list of row dicts (Python scalars), restricted to ``columns`` when given."""
    names = columns or [c for c, v in table.items() if v.ndim == 1]
    n = len(table[names[0]]) if names else 0
    return [{c: table[c][i].item() for c in names} for i in range(n)]
