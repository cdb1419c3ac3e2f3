"""The folder layout of a main-job run: stage names and the path of every result, in one place.

`relearn_interp.main.stages` writes these paths, `relearn_interp.report.load` reads them, and the
analysis commands name their result files from here. The module imports nothing from the package,
so every layer can read it: the report, below the main job, reads what the main job writes.

A run folder (`--work`, default runs/PRESET) holds one folder per stage, each with its marker:

    run.json                       the run summary (settings, checkpoints, timings)
    bench/bench/                   the benchmark
    vanilla/model/                 the vanilla checkpoint (absent with --vanilla)
    augment/relearn.jsonl          the ReLearn data (+ .stats.json beside it)
    train-METHOD/model/            one unlearned checkpoint per method
    eval-LABEL/LABEL.json          `unlearn eval` results of every checkpoint
    logit-lens/SPLIT/logit_lens.json, shift/SPLIT/shift.json    forget and held-out retain split
    circuits/diff/circuit_diff.json (+ pairs.json and the circuit figures)
    erasure/erasure.json
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RUN_FILE = "run.json"
STAGE_MARKER = ".stage"  # JSON, named without .json so result globs skip it

# stage names (a stage's folder is named after it)
BENCH = "bench"
VANILLA = "vanilla"
AUGMENT = "augment"
LENS = "logit-lens"
SHIFT = "shift"
CIRCUITS = "circuits"
ERASURE = "erasure"
TRAIN_PREFIX = "train-"
EVAL_PREFIX = "eval-"

# inside a stage's folder
BENCH_DIR = "bench"
MODEL_DIR = "model"
RELEARN_DATA = "relearn.jsonl"
CIRCUIT_DIFF_DIR = "diff"

# what the analysis commands write into their --out folder
LENS_RESULTS = "logit_lens.json"
SHIFT_RESULTS = "shift.json"
CIRCUIT_RESULTS = "circuit.json"
CIRCUIT_DIFF_RESULTS = "circuit_diff.json"
CIRCUIT_PAIRS = "pairs.json"
CIRCUIT_DIFF_FIGURES = ("circuit_diff.png", "circuit_diff.pdf", "circuits_whole.pdf")
ERASURE_RESULTS = "erasure.json"


def train_stage(method: str) -> str:
    """The stage that trains `method`."""
    return f"{TRAIN_PREFIX}{method}"


def eval_stage(label: str) -> str:
    """The stage that evaluates the checkpoint labelled `label`."""
    return f"{EVAL_PREFIX}{label}"


def eval_results(stage_folder: Path, label: str) -> Path:
    """The `unlearn eval` results file inside an evaluation stage's folder."""
    return stage_folder / f"{label}.json"


def split_dir(stage_folder: Path, split: str) -> Path:
    """The lens and shift stages run once per split, each into its own folder."""
    return stage_folder / split


@dataclass(frozen=True)
class RunLayout:
    """Where each result of the run under `root` lives."""

    root: Path

    def stage(self, name: str) -> Path:
        return self.root / name

    def marker(self, name: str) -> Path:
        return self.stage(name) / STAGE_MARKER

    @property
    def run_file(self) -> Path:
        return self.root / RUN_FILE

    @property
    def relearn_data(self) -> Path:
        return self.stage(AUGMENT) / RELEARN_DATA

    def eval_folders(self) -> list[Path]:
        """Every evaluation stage's folder, sorted by name."""
        return sorted(self.root.glob(f"{EVAL_PREFIX}*"))

    def lens(self, split: str) -> Path:
        return split_dir(self.stage(LENS), split) / LENS_RESULTS

    def shift(self, split: str) -> Path:
        return split_dir(self.stage(SHIFT), split) / SHIFT_RESULTS

    @property
    def circuit_dir(self) -> Path:
        return self.stage(CIRCUITS) / CIRCUIT_DIFF_DIR

    @property
    def erasure(self) -> Path:
        return self.stage(ERASURE) / ERASURE_RESULTS
