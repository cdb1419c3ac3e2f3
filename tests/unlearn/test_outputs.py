"""One output, whole or not at all, and one writer per output (unlearn.outputs, unlearn.io.atomic_dir)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from unlearn.errors import UserError
from unlearn.io import atomic_dir
from unlearn.outputs import lock_path, output_lock, pid_alive, sweep_stale


def dead_pid() -> int:
    """The pid of a process that has exited (reaped, so it no longer exists)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_an_interrupt_inside_leaves_neither_output_nor_temporary_folder(tmp_path):
    out = tmp_path / "lens"
    with pytest.raises(KeyboardInterrupt), atomic_dir(out) as tmp:
        (tmp / "logit_lens.json").write_text("{}")
        raise KeyboardInterrupt  # as if ctrl-C hit while the figures were drawn
    assert list(tmp_path.iterdir()) == []


def test_the_output_appears_whole_and_the_lock_is_released(tmp_path):
    out = tmp_path / "lens"
    with atomic_dir(out) as tmp:
        assert lock_path(out).read_text().split() == [str(os.getpid()), socket.gethostname()]
        (tmp / "a.json").write_text("{}")
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["lens"]
    assert (out / "a.json").is_file()


def test_a_live_writer_is_refused_and_a_dead_ones_lock_is_taken_over(tmp_path):
    out = tmp_path / "circ"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lock_path(out).write_text(f"{sleeper.pid}\n")
        with pytest.raises(UserError, match=f"another run \\(pid {sleeper.pid}\\)"):
            with atomic_dir(out):
                pass
    finally:
        sleeper.kill()
        sleeper.wait()
    lock_path(out).write_text(f"{dead_pid()}\n")
    with atomic_dir(out) as tmp:
        (tmp / "x").write_text("1")
    assert (out / "x").is_file() and not lock_path(out).exists()


def test_a_lock_from_another_machine_or_still_being_written_is_not_taken_over(tmp_path):
    out = tmp_path / "circ"
    lock_path(out).write_text(f"{dead_pid()} other-node\n")  # a shared file system
    with pytest.raises(UserError, match=r"on other-node\) is writing .* delete .*\.circ\.lock"):
        with atomic_dir(out):
            pass
    lock_path(out).write_text("")  # created, its pid not yet written
    with pytest.raises(UserError, match="another run is starting"):
        with atomic_dir(out):
            pass
    an_hour_ago = time.time() - 3600
    os.utime(lock_path(out), (an_hour_ago, an_hour_ago))  # a run killed in that instant
    with atomic_dir(out):
        pass
    assert out.is_dir() and not lock_path(out).exists()


def test_an_output_that_appeared_meanwhile_is_not_replaced_without_overwrite(tmp_path):
    out = tmp_path / "circ"
    with pytest.raises(UserError, match="appeared while this run was working"):
        with atomic_dir(out) as tmp:
            (tmp / "mine").write_text("new")
            out.mkdir()
            (out / "theirs").write_text("old")
    assert (out / "theirs").read_text() == "old"
    kept = tmp_path / f"circ.new-{os.getpid()}"
    assert (kept / "mine").read_text() == "new"


def test_stale_temporary_folders_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    out = tmp_path / "circ"
    dead = tmp_path / f".circ.tmp-{dead_pid()}-abc"
    live = tmp_path / f".circ.tmp-{os.getppid()}-abc"  # the test runner's parent is alive
    old_unnamed = tmp_path / ".circ.tmp-x1y2"  # an older naming without a pid
    fresh_unnamed = tmp_path / ".circ.tmp-z3w4"
    for folder in (dead, live, old_unnamed, fresh_unnamed):
        folder.mkdir()
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old_unnamed, (two_days_ago, two_days_ago))
    removed = sweep_stale(out)
    assert set(removed) == {dead, old_unnamed}
    assert live.is_dir() and fresh_unnamed.is_dir()


def test_the_next_run_cleans_what_a_killed_run_left(tmp_path):
    out = tmp_path / "circ"
    debris = tmp_path / f".circ.tmp-{dead_pid()}-q"
    debris.mkdir()
    (debris / "half.npz").write_bytes(b"\0")
    with atomic_dir(out):
        pass
    assert not debris.exists()


def test_pid_probe():
    assert pid_alive(os.getpid()) and not pid_alive(dead_pid()) and not pid_alive(0)


def test_the_same_process_may_nest_its_own_lock(tmp_path):
    out = tmp_path / "x"
    with output_lock(out), output_lock(out):
        assert lock_path(out).exists()
    assert not lock_path(out).exists()
