"""A main-job run's saved results, loaded from its stage folders (`relearn_interp.layout`), and the
statistics the figures, claims and sections share, each computed once from them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from relearn_interp.claims.base import Evidence
from relearn_interp.layout import CIRCUIT_DIFF_RESULTS, CIRCUIT_PAIRS, RunLayout
from relearn_interp.metric_intervals import metric_estimates
from relearn_interp.statistics import Estimate
from unlearn.errors import UserError


@dataclass
class RunResults:
    """Everything a report is drawn from, loaded from a run's stage folders."""

    settings: dict
    evals: dict[str, dict]
    cards: dict[str, dict]
    augment_stats: dict | None
    lens: dict[str, dict]
    shift: dict[str, dict]
    erasure: dict | None
    circuits: dict | None
    circuit_pairs: dict | None
    circuit_dir: Path
    forget_split: str
    retain_split: str
    timings: list[dict]
    wall_seconds: float
    peak_rss_mb: float
    precision: dict | None = None  # stage -> the resolved arithmetic (run.json)

    @property
    def seed(self) -> int:
        """The run's seed, which is also the seed of every bootstrap in the report."""
        return int(self.settings.get("seed", 0))

    @cached_property
    def evidence(self) -> Evidence:
        """What the claims are checked on (its erasure table also feeds the erasure figures and
        section)."""
        forget = self.forget_split
        return Evidence(self.evals, self.lens[forget], self.shift[forget], self.circuits,
                        self.circuit_pairs, self.erasure, self.seed)  # fmt: skip

    @cached_property
    def metric_estimates(self) -> dict[str, dict[str, Estimate]]:
        """label -> metric key -> estimate with its 95% CI (the metrics table, figure and JSON)."""
        return metric_estimates(self.evals, self.seed)


def _load(path: Path) -> dict:
    """A stage's results ({meta, values}); a missing, malformed or misshapen file is one line."""
    from unlearn.eval.results_file import read_stage_results

    return read_stage_results(path)


def _object(path: Path, what: str) -> dict:
    from unlearn.eval.results_file import read_object

    return read_object(path, what)


def _optional(path: Path) -> dict | None:
    """A stage's results, or None when that stage did not run."""
    return _load(path) if path.is_file() else None


def stage_timings(layout: RunLayout, stages: list[str]) -> list[dict]:
    """Each stage's seconds and peak memory as its marker recorded them when it ran."""
    from unlearn.io import read_json

    timings = []
    for name in stages:
        path = layout.marker(name)
        marker = read_json(path, what="stage marker")
        if not isinstance(marker, dict) or not isinstance(marker.get("seconds"), int | float):
            raise UserError(f"{path}: stage marker has no 'seconds' number; rerun that stage")
        timings.append(
            {
                "stage": name,
                "seconds": marker["seconds"],
                "cached": False,
                "peak_rss_mb": marker.get("peak_rss_mb"),
            }
        )
    return timings


def load_evals(layout: RunLayout) -> dict[str, dict]:
    """label -> `unlearn eval` results of every evaluation stage."""
    from unlearn.eval.results_file import read_eval_results

    evals = {}
    for folder in layout.eval_folders():
        for path in sorted(folder.glob("*.json")):
            if not path.name.startswith("."):
                evals[path.stem] = read_eval_results(path)
    return evals


def load_run(
    layout: RunLayout,
    summary: dict,
    checkpoints: dict[str, Path],
    forget_split: str,
    retain_split: str,
) -> RunResults:
    """Read the results of every stage of a finished run, whose run summary (run.json) is
    `summary`; `checkpoints` are its label -> checkpoint folder."""
    from unlearn.augment import stats_path

    timings = stage_timings(layout, summary["stages"])
    evals = load_evals(layout)
    cards = {
        label: _object(path / "relearn.json", "checkpoint card")
        for label, path in checkpoints.items()
        if (path / "relearn.json").is_file()
    }
    stats_file = stats_path(layout.relearn_data)
    circuit_dir = layout.circuit_dir
    splits = (forget_split, retain_split)
    return RunResults(
        settings=summary["settings"],
        evals=evals,
        cards=cards,
        augment_stats=(
            _object(stats_file, "augmentation statistics") if stats_file.is_file() else None
        ),
        lens={split: _load(layout.lens(split)) for split in splits},
        shift={split: _load(layout.shift(split)) for split in splits},
        erasure=_optional(layout.erasure),
        circuits=_optional(circuit_dir / CIRCUIT_DIFF_RESULTS),
        circuit_pairs=(
            _object(circuit_dir / CIRCUIT_PAIRS, "circuit pairs")
            if (circuit_dir / CIRCUIT_PAIRS).is_file()
            else None
        ),
        circuit_dir=circuit_dir,
        forget_split=forget_split,
        retain_split=retain_split,
        precision=summary.get("precision"),
        timings=timings,
        wall_seconds=summary["wall_seconds"],
        peak_rss_mb=summary["peak_rss_mb"],
    )
