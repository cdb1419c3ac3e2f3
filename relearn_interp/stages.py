"""Content-hash cache for the stages of the main job.

A stage's key hashes its name, its settings and the keys of the stages it reads, so a rerun after a
crash, or after changing one method, redoes only what changed and what depends on it. Each stage
writes into a temporary folder that replaces `root/<name>` only when the stage succeeds.
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from unlearn.io import atomic_dir, hash_json, write_json

MARKER = ".stage"  # JSON, named without .json so result globs skip it


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


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
        marker = out / MARKER
        elapsed = time.time() - self.started
        if marker.is_file() and json.loads(marker.read_text()).get("key") == key:
            self.console.log(f"[dim]{name}: cached ({key})[/dim]  [elapsed {elapsed:,.0f} s]")
            result = StageResult(name, key, out, True, 0.0)
        else:
            self.console.log(f"[bold]{name}[/bold]: running  [elapsed {elapsed:,.0f} s]")
            start = time.time()
            with atomic_dir(out, overwrite=True) as tmp:
                work(tmp)
                seconds = time.time() - start
                write_json(
                    tmp / MARKER,
                    {
                        "key": key,
                        "settings": settings,
                        "seconds": seconds,
                        "peak_rss_mb": peak_rss_mb(),
                    },
                )
            self.console.log(f"{name}: done in {seconds:,.0f} s (peak RSS {peak_rss_mb():,.0f} MB)")
            result = StageResult(name, key, out, False, seconds)
        self.results.append(result)
        return result

    def timings(self) -> list[dict[str, Any]]:
        """Per-stage seconds as recorded when each stage ran (cached ones keep their first time)."""
        rows = []
        for result in self.results:
            recorded = json.loads((result.path / MARKER).read_text())
            rows.append(
                {
                    "stage": result.name,
                    "seconds": recorded["seconds"],
                    "cached": result.cached,
                    "peak_rss_mb": recorded.get("peak_rss_mb"),
                }
            )
        return rows
