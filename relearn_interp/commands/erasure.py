"""Erased or suppressed? Probe each unlearned checkpoint against the model before unlearning.

On the forget facts the base model states: lens recovery (gold token in the top k inside but not
said), activation patching both ways (per-layer curves and a depth score), the relearning attack
(fine-tune on half the forget facts, ask for the other half) with a retain-only control, and
recall with int8/int4 weights. Writes erasure.json (meta, per-fact arrays, curves, judgements,
per-fact items) and the figures erasure_patching and erasure_recovery (PNG and PDF).

Example: relearn-interp erasure --base vanilla=ckpt/vanilla --ckpt ga=ckpt/ga --ckpt relearn=ckpt/relearn --data ours:bench#forget10 --retain ours:bench#retain90 --out results/interp/erasure
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from relearn_interp import layout
from relearn_interp.commands.analysis_args import add_base_and_checkpoints, add_data_arguments
from unlearn.commands.arg_types import (
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    add_mixed_precision,
    finite_float,
    positive_float,
)

if TYPE_CHECKING:
    from relearn_interp.command_args import ErasureArgs
    from relearn_interp.erasure.judge import ErasureTable
    from relearn_interp.erasure.pipeline import ErasureSettings

RESULTS = layout.ERASURE_RESULTS  # the results file this command writes
FIGURES = ("erasure_patching", "erasure_recovery")


def configure(parser: argparse.ArgumentParser) -> None:
    add_base_and_checkpoints(
        parser, "the model before unlearning", "an unlearned checkpoint (repeat for several)"
    )
    add_data_arguments(parser)  # --data is the forget set; --seed also seeds the fine-tuning
    parser.add_argument(
        "--retain",
        required=True,
        help="retain records for the relearning control (never forget ones)",
    )
    parser.add_argument(
        "--top-k", type=POSITIVE_INT, default=10, help="lens recovery: gold token in top k"
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["slot"],
        choices=("slot", "subject", "all"),
        help="patch at the knowledge slot, the subject's tokens and/or every position",
    )
    parser.add_argument(
        "--min-gap",
        type=finite_float,
        default=1.0,
        help="nats a fact must lose to get patching shares",
    )
    parser.add_argument(
        "--relearn-steps", type=NON_NEGATIVE_INT, default=5, help="fine-tuning steps (0: skip)"
    )
    parser.add_argument("--relearn-batch", type=POSITIVE_INT, default=8, help="records per step")
    parser.add_argument(
        "--relearn-lr",
        type=positive_float,
        help="default: a tenth of the base preset's fine-tuning rate",
    )
    parser.add_argument(
        "--bits",
        type=int,
        nargs="*",
        choices=(8, 4),
        default=[8, 4],
        help="quantized recall (none: skip)",
    )
    parser.add_argument(
        "--max-new-tokens",
        type=POSITIVE_INT,
        default=48,
        help="tokens generated per recall answer",
    )
    add_mixed_precision(
        parser,
        "the patching passes and the relearning attack (lens and recall: never)",
        default="auto",
    )
    parser.add_argument(
        "--chunk-size", type=POSITIVE_INT, default=8, help="facts per patching batch"
    )
    parser.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")


def run(args: argparse.Namespace) -> int:
    from relearn_interp.command_args import ErasureArgs, from_namespace
    from relearn_interp.commands.analysis_args import checkpoint_texts

    checkpoints = checkpoint_texts([args.base, *args.ckpt])
    return execute(from_namespace(ErasureArgs, args, checkpoints=checkpoints))


def erasure_settings(args: ErasureArgs, mixed_precision: str) -> ErasureSettings:
    """The probes' settings from the command's arguments (`mixed_precision` resolved), checked."""
    from dataclasses import replace

    from relearn_interp.erasure.pipeline import ErasureSettings
    from relearn_interp.erasure.recall_probes import GENERATION
    from relearn_interp.erasure.relearning import RelearnSettings

    settings = ErasureSettings(
        top_k=args.top_k,
        variants=tuple(dict.fromkeys(args.variants)),
        min_gap=args.min_gap,
        bits=tuple(args.bits),
        relearn=RelearnSettings(
            args.relearn_steps,
            args.relearn_lr,
            args.relearn_batch,
            mixed_precision,
            args.seed,
        ),
        generation=replace(GENERATION, max_new_tokens=args.max_new_tokens, seed=args.seed),
        chunk_size=args.chunk_size,
        mixed_precision=mixed_precision,
        seed=args.seed,
    )
    settings.check()
    return settings


def execute(args: ErasureArgs) -> int:
    """Run the command from its typed arguments (the command line's, or a child process's)."""
    from relearn_interp.commands.analysis_args import checkpoint_specs, load_records
    from relearn_interp.erasure.judge import erasure_table
    from relearn_interp.erasure.pipeline import Model, erasure
    from relearn_interp.load import require_same_vocab
    from relearn_interp.plots.erasure import plot_erasure
    from unlearn.data.loaders import load_data
    from unlearn.devices import check_on_device, resolve_device
    from unlearn.errors import UserError
    from unlearn.io import atomic_dir, write_json
    from unlearn.models.loading import load_model, load_tokenizer
    from unlearn.precision import precision_record, resolve_mixed_precision
    from unlearn.training.attack import default_relearn_lr

    device = resolve_device(args.device)
    mixed_precision = resolve_mixed_precision(args.mixed_precision, device)
    settings = erasure_settings(args, mixed_precision)
    specs = checkpoint_specs(args.checkpoints)
    base_label = next(iter(specs))

    def load(label: str, spec: str) -> Model:
        model, tokenizer = load_model(spec, device=device, attn_implementation="eager")
        check_on_device(model, device, f"checkpoint {spec}")
        return Model(label, model, tokenizer, spec, default_relearn_lr(spec))

    with atomic_dir(args.out, overwrite=args.overwrite) as tmp:
        require_same_vocab({label: load_tokenizer(path) for label, path in specs.items()})
        forget, all_forget = load_records(args)
        retain = load_data(args.retain)
        base = load(base_label, specs[base_label])
        vocab = base.model.get_output_embeddings().weight.shape[0]
        if args.top_k > vocab:
            raise UserError(
                f"--top-k {args.top_k} is larger than the vocabulary of {base_label} ({vocab} "
                "tokens); lower it"
            )
        others = {label: spec for label, spec in specs.items() if label != base_label}
        results = erasure(
            base, others, forget, retain, settings, context=[*all_forget, *retain], load=load
        )
        results["meta"].update(
            {
                "data": args.data,
                "retain": args.retain,
                "max_prompts": args.max_prompts,
                "device": str(device),
                "precision": precision_record(mixed_precision, device, args.mixed_precision),
            }
        )
        table = erasure_table(results, args.seed)
        results["values"]["judgements"] = table.judgements
        results["values"]["claim"] = table.claim
        write_json(tmp / RESULTS, results)
        plot_erasure(results, table, tmp)
    print_summary(table)
    print(f"wrote {RESULTS} and {len(FIGURES)} figures (PNG+PDF) to {args.out}")
    return 0


def print_summary(table: ErasureTable) -> None:
    """One line per checkpoint (judgement, forgotten and recovered shares, depth), then the claim."""
    for label, estimates in table.estimates.items():
        recovered, depth = estimates["any"], estimates["depth"]
        depth_text = f"{depth.value:.2f}" if depth else "n/a"
        print(
            f"{label}: {table.judgements[label]}; forgot {estimates['forgotten'].value:.0%} of "
            f"{table.n_facts[label]} facts, {recovered.value:.0%} of those recovered by some "
            f"probe, patching depth {depth_text}"
        )
    print(f"claim: {table.claim['claim']}: {table.claim['verdict']}")
