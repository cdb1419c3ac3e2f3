"""One writer per output, checked before the work starts, and no debris from killed runs.

`atomic_dir` (unlearn.io) builds on these: a lock file beside the output holds the writer's pid
and host, so a second run on the same output is refused in one line while a lock whose process
has died on this machine is taken over (one from another machine, on a shared file system, never
is); temporary folders carry their writer's pid, so the next run removes those of dead writers
(or, for names without a pid, those older than a day).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from unlearn.errors import UserError

STALE_SECONDS = 24 * 3600  # a temporary folder without a readable pid is debris after a day
STARTING_SECONDS = 10  # an empty lock younger than this is being written by a starting run
HOST = socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a permission error means it does)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def writable_parent(out: str | Path, flag: str = "--out") -> Path:
    """Check, before any work, that the folder that will hold `out` can be created and written
    (the nearest existing folder above it is checked; nothing is created)."""
    parent = Path(out).parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{flag} {out}: {existing} is a file, not a folder; choose another {flag}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(
            f"{flag} {out}: the folder {existing} is not writable; choose another {flag} or fix "
            "its permissions"
        )
    return parent


def lock_path(out: str | Path) -> Path:
    out = Path(out)
    return out.parent / f".{out.name}.lock"


def _holder(lock: Path) -> tuple[int, str | None] | None:
    """(pid, host) written in a lock file (host None in a lock that names none), or None when it
    cannot be read."""
    try:
        pid, _, host = lock.read_text().strip().partition(" ")
        return int(pid), host or None
    except (OSError, ValueError):
        return None


def _is_this_process(holder: tuple[int, str | None] | None) -> bool:
    return holder is not None and holder[0] == os.getpid() and holder[1] in (None, HOST)


def _refuse_if_held(lock: Path, out: str | Path) -> None:
    """Refuse while the lock's writer may still run: a live pid here, any pid on another machine
    (an output on a shared file system; its pid cannot be checked from here), or a lock still
    being written (empty for a moment after its creation)."""
    holder = _holder(lock)
    if holder is None:
        with contextlib.suppress(FileNotFoundError):
            if time.time() - lock.stat().st_mtime < STARTING_SECONDS:
                raise UserError(
                    f"another run is starting to write {out}; wait, or delete {lock} if none is"
                )
        return
    pid, host = holder
    if host not in (None, HOST):
        raise UserError(
            f"another run (pid {pid} on {host}) is writing {out}; wait for it, or delete {lock} "
            "if that run was killed"
        )
    if pid_alive(pid):
        raise UserError(
            f"another run (pid {pid}) is writing {out}; wait for it to finish or choose another "
            f"--out (delete {lock} only if that run was killed and its pid now runs another program)"
        )


@contextlib.contextmanager
def parent_folders(out: str | Path) -> Iterator[Path]:
    """Create the folders above `out`; those created here are removed again if the block fails,
    so a refused or interrupted run leaves no empty folder behind."""
    parent = Path(out).parent
    missing = []
    folder = parent
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    try:
        yield parent
    except BaseException:
        for created in missing:  # deepest first
            with contextlib.suppress(OSError):
                created.rmdir()
        raise


@contextlib.contextmanager
def output_lock(out: str | Path) -> Iterator[None]:
    """Hold `.NAME.lock` beside `out` for the block; refuse when a live process holds it."""
    with parent_folders(out):
        yield from _locked(out)


def _locked(out: str | Path) -> Iterator[None]:
    """Create the lock file atomically (O_EXCL), taking over one whose writer has died."""
    lock = lock_path(out)
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if _is_this_process(_holder(lock)):  # the same process writes inside its own output
                yield
                return
            _refuse_if_held(lock, out)
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()  # its writer died: take the lock over
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{os.getpid()} {HOST}\n")
        try:
            yield
        finally:
            if _is_this_process(_holder(lock)):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
        return
    raise UserError(f"cannot take the lock {lock}; remove it if no run is writing {out}")


def temp_prefix(out: str | Path, kind: str) -> str:
    """`.NAME.tmp-PID-` (or `.old-`): the prefix of a temporary sibling of `out`."""
    return f".{Path(out).name}.{kind}-{os.getpid()}-"


def sweep_stale(out: str | Path) -> list[Path]:
    """Remove the temporary siblings of `out` left by killed runs (dead pid, or a day old)."""
    out = Path(out)
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.(?:tmp|old)-(?:(\d+)-)?")
    removed = []
    if not out.parent.is_dir():
        return removed
    for entry in out.parent.iterdir():
        stale = False
        match = pattern.match(entry.name)
        if not match:
            continue
        pid = int(match.group(1)) if match.group(1) else None
        if pid is not None:
            stale = pid != os.getpid() and not pid_alive(pid)
        else:
            with contextlib.suppress(FileNotFoundError):
                stale = time.time() - entry.stat().st_mtime > STALE_SECONDS
        if stale:
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
            removed.append(entry)
    return removed
