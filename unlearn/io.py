"""Atomic writes, content hashes and provenance shared by every stage.

Outputs are written to a temporary sibling and renamed into place, so a crash or Ctrl-C never
leaves a half-written file or folder behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from unlearn.errors import UserError
from unlearn.outputs import output_lock, sweep_stale, temp_prefix, writable_parent

TRACKED_PACKAGES = (
    "relearn-interp",
    "torch",
    "transformers",
    "transformer-lens",
    "peft",
    "accelerate",
)


def versions() -> dict[str, str]:
    """Versions of Python and the packages that shape results."""
    found = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def display_path(path: str | Path) -> str:
    """A path as shown in reports: relative to the working folder when inside it (no machine paths)."""
    text = str(path)
    if os.path.isabs(text):
        try:
            return os.path.relpath(text)
        except ValueError:
            return text
    return text


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hash_json(obj: Any) -> str:
    """Stable short hash of a JSON-serialisable object (keys sorted)."""
    return sha256_bytes(json.dumps(obj, sort_keys=True, default=str).encode())[:16]


def hash_path(path: str | Path) -> str:
    """Short content hash of a file, or of every file under a folder (names and bytes)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _readable(path: str | Path, directory: bool = False) -> None:
    """mkstemp/mkdtemp create private (0600/0700) paths; give outputs the usual permissions."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def json_number(value: float) -> float:
    """A number for result JSON: 6 significant digits, so files stay short and diff cleanly."""
    return float(f"{float(value):.6g}")


def json_number_or_none(value: float) -> float | None:
    """`json_number`, or None where the value was not computed (NaN)."""
    return None if math.isnan(float(value)) else json_number(value)


def write_json(path: str | Path, obj: Any) -> Path:
    """Write JSON atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(obj, handle, indent=2, default=str)
            handle.write("\n")
        _readable(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write text atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        _readable(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def check_output_dir(out: str | Path, overwrite: bool) -> Path:
    """Refuse an existing, non-empty output folder unless overwrite is set."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise UserError(f"output {out} already exists; pass --overwrite to replace it")
    return out


@contextlib.contextmanager
def atomic_dir(out: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside `out`; on success it replaces `out`, on error it vanishes.

    Checked before the block runs: the existing output, a writable parent, and the lock (one
    writer per output). Temporary folders that killed runs left beside `out` are removed first.
    """
    out = check_output_dir(out, overwrite)
    parent = writable_parent(out)
    with output_lock(out):
        sweep_stale(out)
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(out, "tmp"), dir=parent))
        _readable(tmp, directory=True)
        try:
            yield tmp
            _publish(tmp, out, overwrite)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _publish(tmp: Path, out: Path, overwrite: bool) -> None:
    """Rename `tmp` to `out`; an output that appeared meanwhile is replaced only with overwrite
    (otherwise the finished work is kept beside it under a name the error gives)."""
    if out.exists() and not overwrite and (not out.is_dir() or any(out.iterdir())):
        kept = out.with_name(f"{out.name}.new-{os.getpid()}")
        os.replace(tmp, kept)
        raise UserError(
            f"output {out} appeared while this run was working; this run's output is in {kept} "
            "(pass --overwrite to replace an existing output)"
        )
    if out.exists():
        trash = Path(tempfile.mkdtemp(prefix=temp_prefix(out, "old"), dir=out.parent))
        os.replace(out, trash / out.name)
        os.replace(tmp, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, out)


def read_text(path: str | Path, what: str = "file") -> str:
    """Read a UTF-8 text file (a byte-order mark is allowed); a missing, unreadable or
    non-UTF-8 file is a one-line UserError naming the line of the first bad byte."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{what} {path} is a folder, not a file")
    if not path.is_file():
        raise UserError(f"{what} {path} does not exist")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UserError(f"{what} {path} cannot be read: {err.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise UserError(
            f"{what} {path} is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line}); "
            "save it as UTF-8"
        ) from None


def read_json(path: str | Path, what: str = "file") -> Any:
    """Read JSON, turning a missing or malformed file into a one-line UserError."""
    path = Path(path)
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise UserError(
            f"{what} {path} is not valid JSON: {err.msg} at line {err.lineno}"
        ) from None


def read_jsonl(path: str | Path, what: str = "file") -> list[dict[str, Any]]:
    """Read JSON Lines; a bad line is reported with its number."""
    path = Path(path)
    rows = []
    for number, line in enumerate(read_text(path, what).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise UserError(f"{what} {path} line {number} is not valid JSON: {err.msg}") from None
    return rows
