"""Atomic files and staged folders: a reader sees the old version or the whole new one, never a part.

- :func:`atomic_write` (and :func:`write_text_atomic`, :func:`write_bytes_atomic`): write to a temp file in the
  same folder, then ``os.replace`` it onto the target. On any failure the temp file is removed and an existing
  target is left as it was.
- :func:`staged_folder`: build a whole folder under a staging folder, then move it into place with one
  ``rename``. A writer killed mid-way leaves only its staging folder, named ``<final>.<pid>.<token>``;
  :func:`clean_dead_staging` removes those whose process is gone (a live writer's is kept).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


def _process_umask() -> int:
    """This process's umask (read once at import: setting and restoring it is not thread-safe later)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _process_umask()


def _token() -> str:
    return f"{os.getpid()}.{uuid.uuid4().hex[:8]}"


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path beside ``path`` for the caller to write; on success it replaces ``path`` in one step.

    The temp name ends with ``path``'s suffix (``.mp4``, ``.png``), so tools that choose a container by extension
    write the right one. The written file is flushed to disk first; a new file gets the usual umask permissions, a
    replaced one keeps its mode. On any failure (also one of the caller's) the temp file is removed.

    Example:
        >>> with atomic_write("out/table.csv") as tmp:            # doctest: +SKIP
        ...     tmp.write_text("a,b\\n1,2\\n")
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{_token()}.tmp{path.suffix}")
    try:
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(errno.ENOENT, "the writer wrote nothing", str(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        # a replaced file keeps its mode; a new one gets the umask's, whatever mode the writer gave the temp file
        # (safetensors' writer creates 0600 files)
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`); returns ``path``."""
    with atomic_write(path) as tmp, open(tmp, "xb") as f:
        f.write(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write`); returns ``path``."""
    return write_bytes_atomic(path, text.encode("utf-8"))


@contextmanager
def staged_folder(final: str | os.PathLike[str], staging_root: str | os.PathLike[str], *,
                  replace: bool = False) -> Iterator[Path]:
    """Yield a new, empty folder under ``staging_root``; when the block ends normally it becomes ``final`` with one
    ``rename``.

    ``staging_root`` must be on the same file system as ``final`` (a sibling folder is). When ``final`` exists,
    ``replace`` moves the old one aside and the new one in (a reader sees the old or the new folder, never a
    half-written one; for a moment between the two renames there is none); without ``replace`` it is a ``FileExistsError`` (also when another process moved its own in first). On any
    failure the staging folder is removed.
    """
    final, staging_root = Path(final), Path(staging_root)
    staging = staging_root / f"{final.name}.{_token()}"
    staging.mkdir(parents=True)
    old = staging_root / f"{final.name}.{_token()}.old"
    try:
        yield staging
        if replace and final.exists():
            os.rename(final, old)
        try:
            os.rename(staging, final)
        except OSError:
            if old.exists() and not final.exists():
                os.rename(old, final)  # put the old folder back
                raise
            if final.exists():
                raise FileExistsError(errno.EEXIST, "already exists", str(final)) from None
            raise
    finally:
        for leftover in (staging, old):
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _writer_pid(name: str) -> int | None:
    """The pid in a staging name ``<final>.<pid>.<token>`` (or ``....old``), None for other names."""
    parts = name.removesuffix(".old").rsplit(".", 2)
    try:
        return int(parts[-2]) if len(parts) == 3 else None
    except ValueError:
        return None


def clean_dead_staging(staging_root: str | os.PathLike[str]) -> list[Path]:
    """Remove the staging folders under ``staging_root`` whose writer process is gone; returns what was removed.

    Folders of live writers (and entries not named by :func:`staged_folder`) are left alone.
    """
    staging_root = Path(staging_root)
    if not staging_root.is_dir():
        return []
    removed = []
    for entry in staging_root.iterdir():
        pid = _writer_pid(entry.name)
        if entry.is_dir() and pid is not None and not pid_alive(pid):
            log.info("removing %s, left by a writer (pid %d) that stopped mid-way", entry, pid)
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
