"""The main job's stages: one builder per stage, each returning the work that fills its folder.

Training and evaluation run in this process; the analyses run as `relearn-interp` commands in child
processes, so their models and buffers leave memory with them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rich.console import Console

from relearn_interp.main_settings import ReproduceSettings
from unlearn.errors import UserError
from unlearn.io import hash_json, hash_path

GENERATION_BATCH = 64


def stage_bench(settings: ReproduceSettings):
    def work(folder: Path) -> None:
        from unlearn.data.benchmark import build_world, write_world

        world = build_world(settings.authors, settings.seed, forget_pcts=(settings.forget_pct,))
        write_world(world, folder / "bench")

    return work


def stage_vanilla(settings: ReproduceSettings, bench: Path, mixed_precision: str):
    def work(folder: Path) -> None:
        from unlearn.finetune import FinetuneConfig, finetune

        config = FinetuneConfig.for_preset(
            settings.preset, seed=settings.seed, mixed_precision=mixed_precision
        )
        card = finetune(settings.preset, f"ours:{bench}", folder / "model", config)
        target = card.get("recall_target", {})
        if not target.get("reached", True):
            Console(stderr=True).log(
                f"[yellow]warning: the vanilla model reached recall {target['recall']:.2f}, not "
                f"the target {target['recall_at_least']} ({card['recall']}); unlearning numbers "
                "start from an imperfect memoriser[/yellow]"
            )

    return work


def augment_code_hash() -> str:
    """A hash of the augmentation code and its coarse-attribute table."""
    import unlearn.augment
    import unlearn.data.coarse

    folder = Path(unlearn.augment.__file__).parent
    files = sorted(folder.rglob("*.py")) + [Path(unlearn.data.coarse.__file__)]
    return hash_json([[str(f.relative_to(folder.parent)), hash_path(f)] for f in files])


def stage_augment(settings: ReproduceSettings, bench: Path):
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


def stage_train(
    settings: ReproduceSettings,
    method: str,
    bench: Path,
    vanilla: Path,
    relearn_data: Path,
    mixed_precision: str,
):
    def work(folder: Path) -> None:
        from unlearn.train import train
        from unlearn.train_config import TrainConfig

        config = TrainConfig.for_preset(
            vanilla,
            method,
            seed=settings.seed,
            mixed_precision=mixed_precision,
            **settings.train_settings(method),
        )
        train(
            method,
            vanilla,
            f"ours:{bench}#{settings.forget_split}",
            f"ours:{bench}#{settings.retain_train_split}",
            folder / "model",
            config,
            relearn_data=relearn_data if method.startswith("relearn") else None,
        )

    return work


def stage_eval(settings: ReproduceSettings, label: str, model: Path, bench: Path):
    def work(folder: Path) -> None:
        from unlearn.eval.evaluate import EvalConfig, evaluate
        from unlearn.eval.generate import GenerationConfig

        config = EvalConfig(
            # One batch per set: on a CPU, decoding reads every weight once a token whatever the
            # batch, so 33 questions in one batch cost little more than 16.
            generation=GenerationConfig(batch_size=GENERATION_BATCH),
            limit=settings.eval_limit,
            name=label,
            seed=settings.seed,
            # The precision claim is about the unlearned checkpoints; vanilla is not rounded.
            precisions=settings.precisions if label != "vanilla" else (),
            paraphrased=True,
        )
        evaluate(
            model,
            f"ours:{bench}#{settings.forget_split}",
            f"ours:{bench}#{settings.retain_eval_split}",
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


def _prompt_limit(limit: int | None) -> list[str]:
    return ["--max-prompts", str(limit)] if limit else []


def stage_lens(settings: ReproduceSettings, models: dict[str, Path], bench: Path):
    def work(folder: Path) -> None:
        for split in (settings.forget_split, settings.retain_eval_split):
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
                    *_prompt_limit(settings.lens_prompts),
                    # The claims and tables read the knowledge slot; decoding every answer position
                    # of 30 layers through a 49k vocabulary costs ~2.7x the forward (docs/logit-lens.md).
                    "--positions",
                    "slots",
                ]
            )

    return work


def stage_shift(settings: ReproduceSettings, models: dict[str, Path], bench: Path):
    def work(folder: Path) -> None:
        base = {"vanilla": models["vanilla"]}
        others = {label: path for label, path in models.items() if label != "vanilla"}
        for split in (settings.forget_split, settings.retain_eval_split):
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
                    *_prompt_limit(settings.shift_prompts),
                ]
            )

    return work


def stage_circuits(settings: ReproduceSettings, models: dict[str, Path], bench: Path):
    """Every checkpoint's circuit over the forget authors' facts, sized by held-out faithfulness,
    and the diff against vanilla's circuit."""

    def work(folder: Path) -> None:
        _cli(
            [
                "circuit-diff",
                *_checkpoint_args("--ckpt", models),
                "--entities",
                settings.forget_split,
                "--data",
                f"ours:{bench}",
                "--out",
                str(folder / "diff"),
                "--method",
                settings.circuit_method,
                "--ig-steps",
                str(settings.circuit_ig_steps),
                "--partners-per-fact",
                str(settings.circuit_partners),
                "--target",
                str(settings.circuit_target),
                "--seed",
                str(settings.seed),
            ]
        )

    return work


def stage_erasure(
    settings: ReproduceSettings, models: dict[str, Path], bench: Path, mixed_precision: str
):
    """Erased or suppressed: every unlearned checkpoint probed against vanilla on the forget set."""

    def work(folder: Path) -> None:
        base = {"vanilla": models["vanilla"]}
        others = {label: path for label, path in models.items() if label != "vanilla"}
        _cli(
            [
                "erasure",
                *_checkpoint_args("--base", base),
                *_checkpoint_args("--ckpt", others),
                "--data",
                f"ours:{bench}#{settings.forget_split}",
                "--retain",
                f"ours:{bench}#{settings.retain_train_split}",
                "--out",
                str(folder),
                "--overwrite",
                "--seed",
                str(settings.seed),
                "--mixed-precision",
                mixed_precision,
                *[str(arg) for arg in settings.erasure_args],
            ]
        )

    return work
