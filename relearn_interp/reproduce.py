"""The main job: benchmark → vanilla → ReLearn data → unlearned checkpoints → metrics → mechanisms → report.

Every stage is cached by the hash of its inputs and settings (relearn_interp.stages), so a rerun
after a crash, or after changing one method, redoes only what changed. The analyses run through the
same code as the `relearn-interp` commands; the figures and REPORT.md are drawn from saved results.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from rich.console import Console

from relearn_interp.stages import MARKER, StageResult, StageRunner, tree_rss_mb
from unlearn.errors import UserError
from unlearn.io import hash_path, write_json

PRESET_NAMES = ("tiny", "smollm2-135m")
RUN_FILE = "run.json"
RETAIN_PROMPTS = 44


@dataclass(frozen=True)
class ReproduceSettings:
    """What the main job runs; `for_preset` sizes it for two CPU cores."""

    preset: str
    authors: int = 20
    seed: int = 0
    forget_pct: int = 10
    methods: tuple[str, ...] = ("ga_gdr", "npo_gdr", "ga_gdr_sure", "npo_gdr_sure", "relearn")
    augment_backend: str = "template"
    eval_limit: int | None = None
    precisions: tuple[str, ...] = ("float16", "bfloat16")
    lens_prompts: int | None = None
    shift_prompts: int | None = None
    circuit_edges: int = 100
    circuit_method: str = "eap-ig"
    circuit_ig_steps: int = 5
    circuit_curve_points: int = 12
    train_overrides: dict = field(default_factory=dict)
    vanilla: str | None = None  # an existing vanilla checkpoint: skips the fine-tuning stage

    @classmethod
    def for_preset(cls, preset: str, **overrides) -> ReproduceSettings:
        if preset not in PRESET_NAMES:
            raise UserError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESET_NAMES)}")
        # smollm2-135m on two CPU cores (30-minute budget): 10 authors (forget10 = 1 author, 11
        # facts), evaluation on the forget set and the first 22 retain facts, analyses on at most 16
        # prompts a split, plain EAP and a 3-point faithfulness curve for the circuits (each point
        # patches every pair through 30 layers: ~9 s a checkpoint).
        sized = {
            "tiny": {},
            "smollm2-135m": {
                "authors": 10,
                "eval_limit": 22,
                "lens_prompts": 16,
                "shift_prompts": 16,
                "circuit_method": "eap",
                "circuit_curve_points": 3,
            },
        }[preset]
        settings = cls(preset=preset, **sized)
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def forget_split(self) -> str:
        return f"forget{self.forget_pct:02d}"

    @property
    def retain_split(self) -> str:
        return f"retain{100 - self.forget_pct:02d}"


def _stage_bench(settings: ReproduceSettings):
    def work(folder: Path) -> None:
        from unlearn.data.benchmark import build_world, write_world

        write_world(build_world(settings.authors, settings.seed), folder / "bench")

    return work


def _stage_vanilla(settings: ReproduceSettings, bench: Path):
    def work(folder: Path) -> None:
        from unlearn.finetune import FinetuneConfig, finetune

        config = FinetuneConfig.for_preset(settings.preset, seed=settings.seed)
        card = finetune(settings.preset, f"ours:{bench}", folder / "model", config)
        recall = card["recall"]
        if min(recall.values()) < 0.9:
            Console(stderr=True).log(
                f"[yellow]warning: the vanilla model recalls only {recall}; "
                "unlearning numbers start from an imperfect memoriser[/yellow]"
            )

    return work


def _stage_augment(settings: ReproduceSettings, bench: Path):
    def work(folder: Path) -> None:
        from unlearn.augment import augment
        from unlearn.data.benchmark import load_world

        world = load_world(bench)
        augment(
            world.split(settings.forget_split),
            world.general,
            settings.augment_backend,
            folder / "relearn.jsonl",
            seed=settings.seed,
        )

    return work


def _stage_train(
    settings: ReproduceSettings, method: str, bench: Path, vanilla: Path, relearn_data: Path
):
    def work(folder: Path) -> None:
        from unlearn.train import TrainConfig, train

        config = TrainConfig.for_preset(
            vanilla, method, seed=settings.seed, **settings.train_overrides
        )
        train(
            method,
            vanilla,
            f"ours:{bench}#{settings.forget_split}",
            f"ours:{bench}#{settings.retain_split}",
            folder / "model",
            config,
            relearn_data=relearn_data if method.startswith("relearn") else None,
        )

    return work


def _stage_eval(settings: ReproduceSettings, label: str, model: Path, bench: Path):
    def work(folder: Path) -> None:
        from unlearn.eval.evaluate import EvalConfig, evaluate

        config = EvalConfig(
            limit=settings.eval_limit,
            name=label,
            seed=settings.seed,
            precisions=settings.precisions,
        )
        evaluate(
            model,
            f"ours:{bench}#{settings.forget_split}",
            f"ours:{bench}#{settings.retain_split}",
            folder / f"{label}.json",
            config,
        )

    return work


def _cli(argv: list[str]) -> None:
    """Run a `relearn-interp` command in a child process: its models and buffers leave with it."""
    code = subprocess.run(
        [sys.executable, "-m", "relearn_interp.cli", *argv], check=False
    ).returncode
    if code != 0:
        raise UserError(f"`relearn-interp {argv[0]}` failed with exit code {code}")


def _checkpoint_args(flag: str, models: dict[str, Path]) -> list[str]:
    return [part for label, path in models.items() for part in (flag, f"{label}={path}")]


def _prompt_limit(limit: int | None, retain: bool) -> list[str]:
    """--max-prompts for an analysis: the setting, and at most RETAIN_PROMPTS on the large retain split."""
    chosen = limit or (RETAIN_PROMPTS if retain else None)
    return ["--max-prompts", str(chosen)] if chosen else []


def _stage_lens(settings: ReproduceSettings, models: dict[str, Path], bench: Path):
    def work(folder: Path) -> None:
        for split in (settings.forget_split, settings.retain_split):
            _cli(
                [
                    "logit-lens",
                    *_checkpoint_args("--ckpt", models),
                    "--data",
                    f"ours:{bench}#{split}",
                    "--out",
                    str(folder / split),
                    "--seed",
                    str(settings.seed),
                    *_prompt_limit(settings.lens_prompts, split == settings.retain_split),
                ]
            )

    return work


def _stage_shift(settings: ReproduceSettings, models: dict[str, Path], bench: Path):
    def work(folder: Path) -> None:
        base = {"vanilla": models["vanilla"]}
        others = {label: path for label, path in models.items() if label != "vanilla"}
        for split in (settings.forget_split, settings.retain_split):
            _cli(
                [
                    "shift",
                    *_checkpoint_args("--base", base),
                    *_checkpoint_args("--ckpt", others),
                    "--data",
                    f"ours:{bench}#{split}",
                    "--out",
                    str(folder / split),
                    "--seed",
                    str(settings.seed),
                    *_prompt_limit(settings.shift_prompts, split == settings.retain_split),
                ]
            )

    return work


def _stage_circuits(settings: ReproduceSettings, models: dict[str, Path], bench: Path, entity: str):
    def work(folder: Path) -> None:
        _cli(
            [
                "circuit-diff",
                *_checkpoint_args("--ckpt", models),
                "--entity",
                entity,
                "--data",
                f"ours:{bench}",
                "--out",
                str(folder / "diff"),
                "--edges",
                str(settings.circuit_edges),
                "--method",
                settings.circuit_method,
                "--ig-steps",
                str(settings.circuit_ig_steps),
                "--curve-points",
                str(settings.circuit_curve_points),
                "--seed",
                str(settings.seed),
            ]
        )

    return work


def reproduce(settings: ReproduceSettings, work_dir: str | Path, figures_dir: str | Path) -> Path:
    """Run (or resume) the main job in `work_dir`; write figures and REPORT.md to `figures_dir`."""
    from unlearn.data.benchmark import load_world

    started = time.time()
    runner = StageRunner(Path(work_dir))
    bench_stage = runner.run(
        "bench", {"authors": settings.authors, "seed": settings.seed}, _stage_bench(settings)
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
            {"preset": settings.preset, "seed": settings.seed},
            _stage_vanilla(settings, bench),
            [bench_stage],
        )
        vanilla_model = vanilla_stage.path / "model"
    augment_stage = runner.run(
        "augment",
        {
            "backend": settings.augment_backend,
            "split": settings.forget_split,
            "seed": settings.seed,
        },
        _stage_augment(settings, bench),
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
                "seed": settings.seed,
                "overrides": settings.train_overrides,
            },
            _stage_train(
                settings, method, bench, models["vanilla"], augment_stage.path / "relearn.jsonl"
            ),
            [bench_stage, vanilla_stage, augment_stage],
        )
        models[method] = stage.path / "model"
        model_stages[method] = stage
    for label, path in models.items():
        runner.run(
            f"eval-{label}",
            {"limit": settings.eval_limit, "precisions": list(settings.precisions)},
            _stage_eval(settings, label, path, bench),
            [bench_stage, model_stages[label]],
        )
    depends = [bench_stage, *model_stages.values()]
    runner.run(
        "logit-lens",
        {"prompts": settings.lens_prompts},
        _stage_lens(settings, models, bench),
        depends,
    )
    runner.run(
        "shift", {"prompts": settings.shift_prompts}, _stage_shift(settings, models, bench), depends
    )
    entity = load_world(bench).forget_authors(settings.forget_pct)[0]
    runner.run(
        "circuits",
        {
            "entity": entity,
            "edges": settings.circuit_edges,
            "method": settings.circuit_method,
            "ig_steps": settings.circuit_ig_steps,
            "curve_points": settings.circuit_curve_points,
        },
        _stage_circuits(settings, models, bench, entity),
        depends,
    )
    run_info = {
        "settings": asdict(settings),
        "entity": entity,
        "wall_seconds": time.time() - started,
        "peak_rss_mb": max(runner.peak_mb, tree_rss_mb()),
        "stages": [r.name for r in runner.results],
        "checkpoints": {label: str(path) for label, path in models.items()},
        "bench": str(bench),
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
    from relearn_interp.report import write_report
    from unlearn.io import read_json

    work_dir = Path(work_dir)
    info = read_json(
        work_dir / RUN_FILE, what="run summary (finish `relearn-interp reproduce` first)"
    )
    settings = ReproduceSettings(
        **{
            **info["settings"],
            "methods": tuple(info["settings"]["methods"]),
            "precisions": tuple(info["settings"]["precisions"]),
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
    return write_report(
        settings=info["settings"],
        eval_dirs=sorted(work_dir.glob("eval-*")),
        lens_dir=work_dir / "logit-lens",
        shift_dir=work_dir / "shift",
        circuit_dir=work_dir / "circuits" / "diff",
        figures_dir=Path(figures_dir),
        timings=timings,
        wall_seconds=info["wall_seconds"],
        peak_rss_mb=info["peak_rss_mb"],
        forget_split=settings.forget_split,
        retain_split=settings.retain_split,
        entity=info["entity"],
    )
