"""Content-hash cache for the stages of the main job.

A stage's key hashes its name, its settings and the keys of the stages it reads, so a rerun after a
crash, or after changing one method, redoes only what changed and what depends on it. Each stage
writes into a temporary folder that replaces `root/<name>` only when the stage succeeds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console

from relearn_interp.layout import STAGE_MARKER
from unlearn.io import atomic_dir, hash_json, write_json


def tree_rss_mb() -> float:
    """Resident memory of this process plus all its live descendants, in MB."""
    me = psutil.Process()
    total = 0
    for process in (me, *me.children(recursive=True)):
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


class TreeMemory:
    """Peak of `tree_rss_mb` while the `with` block runs, sampled every `interval` seconds by a
    daemon thread.

    A process's ru_maxrss is its own peak; while an analysis runs in a child process the machine
    holds the parent's memory as well, so the main job reports the sum, sampled.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, tree_rss_mb())

    def __enter__(self) -> TreeMemory:
        self.peak = tree_rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss_mb())


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc keeps them otherwise), so
    one stage's peak does not stay resident under the next."""
    gc.collect()
    libc_name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(libc_name) if libc_name else None
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


@dataclass
class StageResult:
    name: str
    key: str
    path: Path
    cached: bool
    seconds: float


@dataclass
class StageRunner:
    """Runs named stages under `root`, skipping those whose key is unchanged."""

    root: Path
    console: Console = field(default_factory=Console)
    results: list[StageResult] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    peak_mb: float = 0.0  # largest stage peak of this invocation

    def key(self, name: str, settings: dict[str, Any], depends: list[StageResult]) -> str:
        return hash_json({"stage": name, "settings": settings, "depends": [d.key for d in depends]})

    def run(
        self,
        name: str,
        settings: dict[str, Any],
        work: Callable[[Path], Any],
        depends: list[StageResult] | None = None,
    ) -> StageResult:
        """Run `work(folder)` unless `root/name` already holds the output of the same key."""
        depends = depends or []
        key = self.key(name, settings, depends)
        out = self.root / name
        marker = out / STAGE_MARKER
        elapsed = time.time() - self.started
        if marker.is_file() and json.loads(marker.read_text()).get("key") == key:
            self.console.log(f"[dim]{name}: cached ({key})[/dim]  [elapsed {elapsed:,.0f} s]")
            result = StageResult(name, key, out, True, 0.0)
        else:
            self.console.log(f"[bold]{name}[/bold]: running  [elapsed {elapsed:,.0f} s]")
            start = time.time()
            with atomic_dir(out, overwrite=True) as tmp:
                with TreeMemory() as memory:
                    work(tmp)
                seconds = time.time() - start
                peak = memory.peak
                self.peak_mb = max(self.peak_mb, peak)
                write_json(
                    tmp / STAGE_MARKER,
                    {
                        "key": key,
                        "settings": settings,
                        "seconds": seconds,
                        "peak_rss_mb": peak,
                    },
                )
            release_memory()
            self.console.log(f"{name}: done in {seconds:,.0f} s (peak RSS {peak:,.0f} MB)")
            result = StageResult(name, key, out, False, seconds)
        self.results.append(result)
        return result

    def timings(self) -> list[dict[str, Any]]:
        """Per-stage seconds as recorded when each stage ran (cached ones keep their first time)."""
        rows = []
        for result in self.results:
            recorded = json.loads((result.path / STAGE_MARKER).read_text())
            rows.append(
                {
                    "stage": result.name,
                    "seconds": recorded["seconds"],
                    "cached": result.cached,
                    "peak_rss_mb": recorded.get("peak_rss_mb"),
                }
            )
        return rows
