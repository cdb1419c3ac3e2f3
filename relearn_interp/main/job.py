"""The main job: benchmark → vanilla → ReLearn data → unlearned checkpoints → metrics → mechanisms → report.

Every stage is cached by the hash of its inputs and settings (`relearn_interp.main.cache`), so a
rerun after a crash, or after changing one method, redoes only what changed. The analyses run
through the same code as the `relearn-interp` commands; the figures and REPORT.md are drawn from
saved results. The settings are `relearn_interp.main.settings`, the stages' work
`relearn_interp.main.stages`, the folder layout `relearn_interp.layout`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from relearn_interp.layout import (
    AUGMENT,
    BENCH,
    BENCH_DIR,
    CIRCUITS,
    ERASURE,
    LENS,
    MODEL_DIR,
    RELEARN_DATA,
    SHIFT,
    VANILLA,
    RunLayout,
    eval_stage,
    train_stage,
)
from relearn_interp.main import stages
from relearn_interp.main.cache import StageResult, StageRunner, tree_rss_mb
from relearn_interp.main.settings import ReproduceSettings
from unlearn.devices import default_device
from unlearn.errors import UserError
from unlearn.io import hash_path, write_json
from unlearn.precision import precision_record, resolve_mixed_precision

SUMMARY_WHAT = "run summary (finish `relearn-interp reproduce` first)"


@dataclass
class Checkpoints:
    """The run's checkpoints (vanilla first, then each method) and the stages that made them."""

    models: dict[str, Path] = field(default_factory=dict)
    stages: dict[str, StageResult] = field(default_factory=dict)

    def add(self, label: str, stage: StageResult, model: Path) -> None:
        self.models[label] = model
        self.stages[label] = stage


def reproduce(settings: ReproduceSettings, work_dir: str | Path, figures_dir: str | Path) -> Path:
    """Run (or resume) the main job in `work_dir`; write figures and REPORT.md to `figures_dir`."""
    started = time.time()
    # `auto` resolved once for this machine: the stages that train or patch key on the result
    device = default_device()
    asked = settings.stage_precision()
    precision = {stage: resolve_mixed_precision(value, device) for stage, value in asked.items()}
    runner = StageRunner(Path(work_dir))
    bench_stage = runner.run(
        BENCH,
        {"authors": settings.authors, "seed": settings.seed, "forget_pct": settings.forget_pct},
        stages.stage_bench(settings),
    )
    bench = bench_stage.path / BENCH_DIR
    checkpoints = train_checkpoints(runner, settings, bench_stage, precision)
    evaluate_checkpoints(runner, settings, checkpoints, bench_stage)
    analyse_checkpoints(runner, settings, checkpoints, bench_stage, precision[ERASURE])
    summary = {
        "settings": asdict(settings),
        "forget_authors": _forget_authors(bench, settings),
        "wall_seconds": time.time() - started,
        "peak_rss_mb": max(runner.peak_mb, tree_rss_mb()),
        "stages": [r.name for r in runner.results],
        "checkpoints": {label: str(path) for label, path in checkpoints.models.items()},
        "bench": str(bench),
        "precision": {
            stage: precision_record(value, device, asked[stage])
            for stage, value in precision.items()
        },
    }
    write_json(RunLayout(Path(work_dir)).run_file, summary)
    report = redraw(work_dir, figures_dir)
    runner.console.log(
        f"wrote {report} in {time.time() - started:,.0f} s "
        f"(peak RSS {summary['peak_rss_mb']:,.0f} MB, this process and its children)"
    )
    return report


def _forget_authors(bench: Path, settings: ReproduceSettings) -> list[str]:
    from unlearn.data.benchmark import load_world

    return load_world(bench).forget_authors(settings.forget_pct)


def vanilla_checkpoint(
    runner: StageRunner, settings: ReproduceSettings, bench_stage: StageResult, precision: str
) -> tuple[StageResult, Path]:
    """The vanilla stage and its model: fine-tuned here, or the given `--vanilla` folder."""
    if settings.vanilla:
        given = Path(settings.vanilla)
        if not (given / "config.json").is_file():
            raise UserError(f"--vanilla {given} is not a Hugging Face checkpoint folder")
        return StageResult(VANILLA, hash_path(given), given, True, 0.0), given
    stage = runner.run(
        VANILLA,
        {"preset": settings.preset, "seed": settings.seed, "mixed_precision": precision},
        stages.stage_vanilla(settings, bench_stage.path / BENCH_DIR, precision),
        [bench_stage],
    )
    return stage, stage.path / MODEL_DIR


def train_checkpoints(
    runner: StageRunner,
    settings: ReproduceSettings,
    bench_stage: StageResult,
    precision: dict[str, str],
) -> Checkpoints:
    """The vanilla model, the ReLearn data and one unlearned checkpoint per method."""
    bench = bench_stage.path / BENCH_DIR
    checkpoints = Checkpoints()
    checkpoints.add(VANILLA, *vanilla_checkpoint(runner, settings, bench_stage, precision[VANILLA]))
    augment_stage = runner.run(
        AUGMENT,
        {
            "backend": settings.augment_backend,
            "split": settings.forget_split,
            "seed": settings.seed,
            "code": stages.augment_code_hash(),  # the template augmenter's output is its code's
        },
        stages.stage_augment(settings, bench),
        [bench_stage],
    )
    vanilla_stage, vanilla_model = checkpoints.stages[VANILLA], checkpoints.models[VANILLA]
    for method in settings.methods:
        name = train_stage(method)
        stage = runner.run(
            name,
            {
                "method": method,
                "split": settings.forget_split,
                "retain": settings.retain_train_split,
                "seed": settings.seed,
                "train": settings.train_settings(method),
                "mixed_precision": precision[name],
            },
            stages.stage_train(
                settings,
                method,
                bench,
                vanilla_model,
                augment_stage.path / RELEARN_DATA,
                precision[name],
            ),  # fmt: skip
            [bench_stage, vanilla_stage, augment_stage],
        )
        checkpoints.add(method, stage, stage.path / MODEL_DIR)
    return checkpoints


def evaluate_checkpoints(
    runner: StageRunner,
    settings: ReproduceSettings,
    checkpoints: Checkpoints,
    bench_stage: StageResult,
) -> None:
    """`unlearn eval` of every checkpoint (the unlearned ones also with their weights rounded)."""
    bench = bench_stage.path / BENCH_DIR
    for label, path in checkpoints.models.items():
        runner.run(
            eval_stage(label),
            {
                "limit": settings.eval_limit,
                "precisions": list(settings.precisions) if label != VANILLA else [],
                "retain": settings.retain_eval_split,
                "paraphrased": True,
                "batch": stages.GENERATION_BATCH,
            },
            stages.stage_eval(settings, label, path, bench),
            [bench_stage, checkpoints.stages[label]],
        )


def analyse_checkpoints(
    runner: StageRunner,
    settings: ReproduceSettings,
    checkpoints: Checkpoints,
    bench_stage: StageResult,
    erasure_precision: str,
) -> None:
    """The mechanism analyses (logit lens, shift, circuits, erasure), each in child processes."""
    bench, models = bench_stage.path / BENCH_DIR, checkpoints.models
    depends = [bench_stage, *checkpoints.stages.values()]
    runner.run(
        LENS,
        {"prompts": settings.lens_prompts, "positions": "slots"},
        stages.stage_lens(settings, models, bench),
        depends,
    )
    runner.run(
        SHIFT,
        {"prompts": settings.shift_prompts},
        stages.stage_shift(settings, models, bench),
        depends,
    )
    runner.run(
        CIRCUITS,
        {
            "entities": settings.forget_split,
            "method": settings.circuit_method,
            "ig_steps": settings.circuit_ig_steps,
            "partners": settings.circuit_partners,
            "target": settings.circuit_target,
        },
        stages.stage_circuits(settings, models, bench),
        depends,
    )
    runner.run(
        ERASURE,
        {
            "probes": {
                "max_new_tokens": settings.erasure_max_new_tokens,
                "relearn_steps": settings.erasure_relearn_steps,
                "relearn_batch": settings.erasure_relearn_batch,
                "bits": list(settings.erasure_bits),
            },
            "retain": settings.retain_train_split,
            "mixed_precision": erasure_precision,
        },
        stages.stage_erasure(settings, models, bench, erasure_precision),
        depends,
    )


def read_summary(work_dir: str | Path) -> dict:
    """The run summary (run.json) of a finished main-job run."""
    from unlearn.io import read_json

    return read_json(RunLayout(Path(work_dir)).run_file, what=SUMMARY_WHAT)


def run_checkpoints(work_dir: str | Path) -> dict[str, Path]:
    """Label -> checkpoint folder of a finished main-job run (vanilla first, then each method)."""
    return {label: Path(path) for label, path in read_summary(work_dir)["checkpoints"].items()}


def redraw(work_dir: str | Path, figures_dir: str | Path) -> Path:
    """Draw every figure and REPORT.md from the saved results of a finished run (no recomputation)."""
    from relearn_interp.report.load import load_run
    from relearn_interp.report.render import write_report

    summary = read_summary(work_dir)
    settings = ReproduceSettings.from_summary(summary["settings"])
    checkpoints = {label: Path(path) for label, path in summary["checkpoints"].items()}
    run = load_run(
        RunLayout(Path(work_dir)),
        summary,
        checkpoints,
        settings.forget_split,
        settings.retain_eval_split,
    )
    return write_report(run, Path(figures_dir))
