"""The main job: benchmark → vanilla → ReLearn data → unlearned checkpoints → metrics → mechanisms → report.

Every stage is cached by the hash of its inputs and settings (relearn_interp.stages), so a rerun
after a crash, or after changing one method, redoes only what changed. The analyses run through the
same code as the `relearn-interp` commands; the figures and REPORT.md are drawn from saved results.
The settings are `relearn_interp.main_settings`, the stages' work `relearn_interp.main_stages`.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from relearn_interp import main_stages as stages
from relearn_interp.main_settings import ReproduceSettings
from relearn_interp.stages import MARKER, StageResult, StageRunner, tree_rss_mb
from unlearn.devices import default_device
from unlearn.errors import UserError
from unlearn.io import hash_path, write_json
from unlearn.precision import precision_record, resolve_mixed_precision

RUN_FILE = "run.json"


def reproduce(settings: ReproduceSettings, work_dir: str | Path, figures_dir: str | Path) -> Path:
    """Run (or resume) the main job in `work_dir`; write figures and REPORT.md to `figures_dir`."""
    from unlearn.data.benchmark import load_world

    started = time.time()
    # `auto` resolved once for this machine: the stages that train or patch key on the result
    device = default_device()
    asked = settings.stage_precision()
    precision = {stage: resolve_mixed_precision(value, device) for stage, value in asked.items()}
    runner = StageRunner(Path(work_dir))
    bench_stage = runner.run(
        "bench",
        {"authors": settings.authors, "seed": settings.seed, "forget_pct": settings.forget_pct},
        stages.stage_bench(settings),
    )
    bench = bench_stage.path / "bench"
    if settings.vanilla:
        given = Path(settings.vanilla)
        if not (given / "config.json").is_file():
            raise UserError(f"--vanilla {given} is not a Hugging Face checkpoint folder")
        vanilla_stage = StageResult("vanilla", hash_path(given), given, True, 0.0)
        vanilla_model = given
    else:
        vanilla_stage = runner.run(
            "vanilla",
            {
                "preset": settings.preset,
                "seed": settings.seed,
                "mixed_precision": precision["vanilla"],
            },
            stages.stage_vanilla(settings, bench, precision["vanilla"]),
            [bench_stage],
        )
        vanilla_model = vanilla_stage.path / "model"
    augment_stage = runner.run(
        "augment",
        {
            "backend": settings.augment_backend,
            "split": settings.forget_split,
            "seed": settings.seed,
            "code": stages.augment_code_hash(),  # the template augmenter's output is its code's
        },
        stages.stage_augment(settings, bench),
        [bench_stage],
    )
    models: dict[str, Path] = {"vanilla": vanilla_model}
    model_stages: dict[str, StageResult] = {"vanilla": vanilla_stage}
    for method in settings.methods:
        stage = runner.run(
            f"train-{method}",
            {
                "method": method,
                "split": settings.forget_split,
                "retain": settings.retain_train_split,
                "seed": settings.seed,
                "train": settings.train_settings(method),
                "mixed_precision": precision[f"train-{method}"],
            },
            stages.stage_train(
                settings,
                method,
                bench,
                models["vanilla"],
                augment_stage.path / "relearn.jsonl",
                precision[f"train-{method}"],
            ),
            [bench_stage, vanilla_stage, augment_stage],
        )
        models[method] = stage.path / "model"
        model_stages[method] = stage
    for label, path in models.items():
        runner.run(
            f"eval-{label}",
            {
                "limit": settings.eval_limit,
                "precisions": list(settings.precisions) if label != "vanilla" else [],
                "retain": settings.retain_eval_split,
                "paraphrased": True,
                "batch": stages.GENERATION_BATCH,
            },
            stages.stage_eval(settings, label, path, bench),
            [bench_stage, model_stages[label]],
        )
    depends = [bench_stage, *model_stages.values()]
    runner.run(
        "logit-lens",
        {"prompts": settings.lens_prompts, "positions": "slots"},
        stages.stage_lens(settings, models, bench),
        depends,
    )
    runner.run(
        "shift",
        {"prompts": settings.shift_prompts},
        stages.stage_shift(settings, models, bench),
        depends,
    )
    runner.run(
        "circuits",
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
        "erasure",
        {
            "args": list(settings.erasure_args),
            "retain": settings.retain_train_split,
            "mixed_precision": precision["erasure"],
        },
        stages.stage_erasure(settings, models, bench, precision["erasure"]),
        depends,
    )
    run_info = {
        "settings": asdict(settings),
        "forget_authors": load_world(bench).forget_authors(settings.forget_pct),
        "wall_seconds": time.time() - started,
        "peak_rss_mb": max(runner.peak_mb, tree_rss_mb()),
        "stages": [r.name for r in runner.results],
        "checkpoints": {label: str(path) for label, path in models.items()},
        "bench": str(bench),
        "precision": {
            stage: precision_record(value, device, asked[stage])
            for stage, value in precision.items()
        },
    }
    write_json(Path(work_dir) / RUN_FILE, run_info)
    report = redraw(work_dir, figures_dir)
    runner.console.log(
        f"wrote {report} in {time.time() - started:,.0f} s "
        f"(peak RSS {run_info['peak_rss_mb']:,.0f} MB, this process and its children)"
    )
    return report


def run_checkpoints(work_dir: str | Path) -> dict[str, Path]:
    """Label -> checkpoint folder of a finished main-job run (vanilla first, then each method)."""
    from unlearn.io import read_json

    info = read_json(
        Path(work_dir) / RUN_FILE, what="run summary (finish `relearn-interp reproduce` first)"
    )
    return {label: Path(path) for label, path in info["checkpoints"].items()}


def redraw(work_dir: str | Path, figures_dir: str | Path) -> Path:
    """Draw every figure and REPORT.md from the saved results of a finished run (no recomputation)."""
    from relearn_interp.report import load_run, write_report
    from unlearn.io import read_json

    work_dir = Path(work_dir)
    info = read_json(
        work_dir / RUN_FILE, what="run summary (finish `relearn-interp reproduce` first)"
    )
    settings = ReproduceSettings(
        **{
            key: tuple(value) if isinstance(value, list) else value
            for key, value in info["settings"].items()
        }
    )
    timings = []
    for name in info["stages"]:
        marker = read_json(work_dir / name / MARKER, what="stage marker")
        timings.append(
            {
                "stage": name,
                "seconds": marker["seconds"],
                "cached": False,
                "peak_rss_mb": marker.get("peak_rss_mb"),
            }
        )
    run = load_run(
        work_dir,
        info["settings"],
        run_checkpoints(work_dir),
        settings.forget_split,
        settings.retain_eval_split,
        timings,
        info["wall_seconds"],
        info["peak_rss_mb"],
        info.get("precision"),
    )
    return write_report(run, Path(figures_dir))
