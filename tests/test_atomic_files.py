"""Atomic files and staged folders: nothing half-written is ever visible, and nothing is left behind."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ct1_sim.atomic_files import (
    atomic_write,
    clean_dead_staging,
    staged_folder,
    write_bytes_atomic,
    write_text_atomic,
)

REPO = Path(__file__).resolve().parents[1]


def test_write_replaces_the_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "run.json"
    write_text_atomic(path, "one")
    write_text_atomic(path, "two")
    assert path.read_text() == "two"
    assert os.listdir(path.parent) == ["run.json"]


def test_a_failing_writer_keeps_the_old_file_and_removes_its_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "video.mp4"
    path.write_bytes(b"precious")
    with pytest.raises(RuntimeError, match="encoder crashed"), atomic_write(path) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".mp4"  # tools that pick a container by suffix
        tmp.write_bytes(b"half a vid")
        raise RuntimeError("encoder crashed")
    assert path.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["video.mp4"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failing_disk_keeps_the_old_file_and_removes_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "summary.csv"
    path.write_text("precious")

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(f"ct1_sim.atomic_files.os.{failing}", boom)
    with pytest.raises(OSError, match="disk full"):
        write_bytes_atomic(path, b"new")
    assert path.read_text() == "precious"
    assert os.listdir(tmp_path) == ["summary.csv"]


def test_a_writer_that_writes_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="wrote nothing"), atomic_write(tmp_path / "x.gif"):
        pass
    assert os.listdir(tmp_path) == []


def test_permissions_umask_for_new_files_and_kept_for_replaced_ones(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    new = write_text_atomic(tmp_path / "new.txt", "x")
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    old = tmp_path / "old.txt"
    old.write_text("x")
    old.chmod(0o640)
    write_text_atomic(old, "y")
    assert stat.S_IMODE(old.stat().st_mode) == 0o640


def test_a_folder_as_the_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="is a folder"):
        write_text_atomic(tmp_path, "x")


def test_staged_folder_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    final, staging = tmp_path / "scenes" / "a", tmp_path / ".staging"
    final.parent.mkdir()
    with pytest.raises(RuntimeError), staged_folder(final, staging) as work:
        (work / "part.bin").write_bytes(b"1")
        raise RuntimeError("killed mid-scene")
    assert not final.exists() and os.listdir(staging) == []
    with staged_folder(final, staging) as work:
        (work / "summary.json").write_text("{}")
    assert os.listdir(final) == ["summary.json"] and os.listdir(staging) == []


def test_staged_folder_refuses_or_replaces_an_existing_one(tmp_path: Path) -> None:
    final, staging = tmp_path / "c0", tmp_path / "staging"
    final.mkdir()
    (final / "old").write_text("old")
    with pytest.raises(FileExistsError), staged_folder(final, staging) as work:
        (work / "new").write_text("new")
    assert os.listdir(final) == ["old"] and os.listdir(staging) == []
    with staged_folder(final, staging, replace=True) as work:
        (work / "new").write_text("new")
    assert os.listdir(final) == ["new"] and os.listdir(staging) == []


WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    from ct1_sim.atomic_files import staged_folder
    with staged_folder({final!r}, {staging!r}) as work:
        (work / "part.bin").write_bytes(b"half")
        print("ready", flush=True)
        sys.stdin.read()  # hold the folder open until killed
    """
)


def test_dead_writers_staging_is_cleaned_and_a_live_ones_kept(tmp_path: Path) -> None:
    final, staging = tmp_path / "clips" / "c0", tmp_path / "staging"
    final.parent.mkdir()
    script = WRITER.format(repo=str(REPO), final=str(final), staging=str(staging))
    writer = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"  # the handshake: its staging folder exists now
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    (dead,) = staging.iterdir()
    assert dead.name.startswith(f"c0.{writer.pid}.")
    with staged_folder(tmp_path / "clips" / "c1", staging) as live:  # this process is alive: kept
        (staging / "README").write_text("not a staging folder")  # nor named like one: kept
        assert clean_dead_staging(staging) == [dead]
        assert live.is_dir() and not dead.exists() and (staging / "README").is_file()
    assert not final.exists()
    assert clean_dead_staging(tmp_path / "nowhere") == []


def test_a_new_file_gets_the_umask_mode_even_when_the_writer_made_a_private_temp(tmp_path: Path) -> None:
    import os
    import stat

    from ct1_sim.atomic_files import _UMASK, atomic_write

    target = tmp_path / "weights.safetensors"
    with atomic_write(target) as tmp:
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY, 0o600)  # as safetensors' writer does
        os.write(fd, b"x")
        os.close(fd)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_UMASK
    target.chmod(0o640)
    with atomic_write(target) as tmp:
        tmp.write_bytes(b"y")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # a replaced file keeps its mode
