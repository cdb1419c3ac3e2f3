"""The main job's stages: one builder per stage, each returning the work that fills its folder.

Training and evaluation run in this process; the analyses run as `relearn-interp` commands in child
processes, so their models and buffers leave memory with them. Each child gets its arguments as a
typed dataclass (`relearn_interp.command_args`), serialised to JSON; every path comes from
`relearn_interp.layout`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from relearn_interp.command_args import (
    Checkpoint,
    CircuitDiffArgs,
    ErasureArgs,
    LensArgs,
    ShiftArgs,
    command_of,
    write_args,
)
from relearn_interp.layout import (
    BENCH_DIR,
    CIRCUIT_DIFF_DIR,
    MODEL_DIR,
    RELEARN_DATA,
    VANILLA,
    eval_results,
    split_dir,
)
from relearn_interp.main.settings import ReproduceSettings
from unlearn.errors import UserError
from unlearn.io import hash_json, hash_path

GENERATION_BATCH = 64


def stage_bench(settings: ReproduceSettings):
    def work(folder: Path) -> None:
        from unlearn.data.benchmark import build_world, write_world

        world = build_world(settings.authors, settings.seed, forget_pcts=(settings.forget_pct,))
        write_world(world, folder / BENCH_DIR)

    return work


def stage_vanilla(settings: ReproduceSettings, bench: Path, mixed_precision: str):
    def work(folder: Path) -> None:
        from unlearn.training.finetune import FinetuneConfig, finetune

        config = FinetuneConfig.for_preset(
            settings.preset, seed=settings.seed, mixed_precision=mixed_precision
        )
        card = finetune(settings.preset, f"ours:{bench}", folder / MODEL_DIR, config)
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
            folder / RELEARN_DATA,
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
        from unlearn.methods import get_method
        from unlearn.training.config import TrainConfig
        from unlearn.training.run import train

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
            folder / MODEL_DIR,
            config,
            relearn_data=relearn_data if get_method(method).data == "relearn" else None,
        )

    return work


def stage_eval(settings: ReproduceSettings, label: str, model: Path, bench: Path):
    def work(folder: Path) -> None:
        from unlearn.eval.context import EvalConfig
        from unlearn.eval.evaluate import evaluate
        from unlearn.recall.generation import GenerationConfig

        config = EvalConfig(
            # One batch per set: on a CPU, decoding reads every weight once a token whatever the
            # batch, so 33 questions in one batch cost little more than 16.
            generation=GenerationConfig(batch_size=GENERATION_BATCH),
            limit=settings.eval_limit,
            name=label,
            seed=settings.seed,
            # The precision claim is about the unlearned checkpoints; vanilla is not rounded.
            precisions=settings.precisions if label != VANILLA else (),
            paraphrased=True,
        )
        evaluate(
            model,
            f"ours:{bench}#{settings.forget_split}",
            f"ours:{bench}#{settings.retain_eval_split}",
            eval_results(folder, label),
            config,
        )

    return work


def run_child(args: object) -> None:
    """Run one analysis command in a child process, handing it its typed arguments as a JSON file
    (`relearn_interp.command_args`): its models and buffers leave memory with it."""
    with tempfile.TemporaryDirectory(prefix="relearn-interp-args-") as folder:
        path = write_args(args, Path(folder) / "args.json")
        code = subprocess.run(
            [sys.executable, "-m", "relearn_interp.commands.child", str(path)], check=False
        ).returncode
    if code != 0:
        raise UserError(f"`relearn-interp {command_of(args)}` failed with exit code {code}")


def _labelled(models: dict[str, Path]) -> tuple[Checkpoint, ...]:
    """(label, checkpoint) of every model, vanilla first: the base of shift and erasure."""
    ordered = {VANILLA: models[VANILLA]} | models
    return tuple((label, str(path)) for label, path in ordered.items())


def stage_lens(settings: ReproduceSettings, models: dict[str, Path], bench: Path):
    def work(folder: Path) -> None:
        for split in (settings.forget_split, settings.retain_eval_split):
            args = LensArgs(
                checkpoints=_labelled(models),
                data=f"ours:{bench}#{split}",
                out=str(split_dir(folder, split)),
                seed=settings.seed,
                max_prompts=settings.lens_prompts or None,
                # The claims and tables read the knowledge slot; decoding every answer position
                # of 30 layers through a 49k vocabulary costs ~2.7x the forward (docs/logit-lens.md).
                positions="slots",
            )
            run_child(args)

    return work


def stage_shift(settings: ReproduceSettings, models: dict[str, Path], bench: Path):
    def work(folder: Path) -> None:
        for split in (settings.forget_split, settings.retain_eval_split):
            args = ShiftArgs(
                checkpoints=_labelled(models),
                data=f"ours:{bench}#{split}",
                out=str(split_dir(folder, split)),
                seed=settings.seed,
                max_prompts=settings.shift_prompts or None,
            )
            run_child(args)

    return work


def stage_circuits(settings: ReproduceSettings, models: dict[str, Path], bench: Path):
    """Every checkpoint's circuit over the forget authors' facts, sized by held-out faithfulness,
    and the diff against vanilla's circuit."""

    def work(folder: Path) -> None:
        args = CircuitDiffArgs(
            checkpoints=_labelled(models),
            entities=settings.forget_split,
            data=f"ours:{bench}",
            out=str(folder / CIRCUIT_DIFF_DIR),
            method=settings.circuit_method,
            ig_steps=settings.circuit_ig_steps,
            partners_per_fact=settings.circuit_partners,
            target=settings.circuit_target,
            seed=settings.seed,
        )
        run_child(args)

    return work


def stage_erasure(
    settings: ReproduceSettings, models: dict[str, Path], bench: Path, mixed_precision: str
):
    """Erased or suppressed: every unlearned checkpoint probed against vanilla on the forget set."""

    def work(folder: Path) -> None:
        args = ErasureArgs(
            checkpoints=_labelled(models),
            data=f"ours:{bench}#{settings.forget_split}",
            retain=f"ours:{bench}#{settings.retain_train_split}",
            out=str(folder),
            overwrite=True,
            seed=settings.seed,
            mixed_precision=mixed_precision,
            max_new_tokens=settings.erasure_max_new_tokens,
            relearn_steps=settings.erasure_relearn_steps,
            relearn_batch=settings.erasure_relearn_batch,
            bits=settings.erasure_bits,
        )
        run_child(args)

    return work
