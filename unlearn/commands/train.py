"""Unlearn a checkpoint: GA, NPO, their GDR/KLR and SURE variants, or ReLearn.

Example: unlearn train --method npo_klr --model ckpt/vanilla --forget ours:bench#forget10
         --retain ours:bench#retain90 --out ckpt/npo_klr
Several processes or GPUs: accelerate launch -m unlearn.cli train ... (see docs/train.md).
"""

from __future__ import annotations

import argparse

from unlearn.commands.arg_types import (
    NON_NEGATIVE_FLOAT,
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    PROBABILITY,
    add_mixed_precision,
    float_in,
    positive_float,
)

FRACTION_BELOW_1 = float_in(0.0, 1.0, high_open=True)


def configure(parser: argparse.ArgumentParser) -> None:
    _data_arguments(parser)
    _hyper_arguments(parser)
    _target_arguments(parser)
    parser.add_argument(
        "--resume", action="store_true", help="continue the interrupted run in --out"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing output folder"
    )


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    """The method, the model it unlearns, its data and the output folder."""
    parser.add_argument(
        "--method",
        required=True,
        help="ga, ga_gdr, ga_klr, npo, npo_gdr, npo_klr, any of these + _sure, "
        "relearn, relearn_gdr, relearn_klr",
    )
    parser.add_argument(
        "--model", required=True, help="checkpoint to unlearn (folder, adapter folder or preset)"
    )
    parser.add_argument(
        "--forget", required=True, help="forget data spec, e.g. ours:bench#forget10"
    )
    parser.add_argument(
        "--retain", help="retain data spec, e.g. ours:bench#retain90 (for *_gdr, *_klr, relearn)"
    )
    parser.add_argument(
        "--relearn-data", help="ReLearn JSONL from `unlearn augment` (or a QA data spec)"
    )
    parser.add_argument("--out", required=True, help="output checkpoint folder")


def _hyper_arguments(parser: argparse.ArgumentParser) -> None:
    """The run's hyper-parameters (None: the preset's default for the method)."""
    hyper = parser.add_argument_group(
        "hyper-parameters (defaults per preset and method; see docs/train.md)"
    )
    hyper.add_argument("--epochs", type=POSITIVE_INT)
    hyper.add_argument("--lr", type=positive_float, help="learning rate")
    hyper.add_argument(
        "--batch-size", type=POSITIVE_INT, help="global micro-batch size (split across processes)"
    )
    hyper.add_argument("--grad-accum", type=POSITIVE_INT, help="micro-batches per optimizer step")
    hyper.add_argument(
        "--warmup-ratio", type=PROBABILITY, help="share of steps with a linear warm-up"
    )
    hyper.add_argument("--weight-decay", type=NON_NEGATIVE_FLOAT)
    hyper.add_argument(
        "--max-grad-norm",
        type=NON_NEGATIVE_FLOAT,
        help="clip the gradient norm to this (1.0); 0 turns clipping off, as the reference runs",
    )
    hyper.add_argument(
        "--lora",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="train a LoRA adapter (saved in adapter/ and merged) instead of all weights",
    )
    hyper.add_argument("--lora-r", type=POSITIVE_INT)
    hyper.add_argument("--lora-alpha", type=POSITIVE_INT)
    hyper.add_argument("--lora-dropout", type=FRACTION_BELOW_1)
    hyper.add_argument("--beta", type=positive_float, help="NPO inverse temperature (0.1)")
    hyper.add_argument(
        "--forget-weight",
        type=NON_NEGATIVE_FLOAT,
        help="weight of the forget-side term (or ReLearn CE)",
    )
    hyper.add_argument(
        "--retain-weight", type=NON_NEGATIVE_FLOAT, help="weight of CE on retain data (GDR)"
    )
    hyper.add_argument(
        "--kl-weight",
        type=NON_NEGATIVE_FLOAT,
        help="weight of KL to the starting model on retain data (KLR)",
    )
    hyper.add_argument(
        "--kl-all-positions",
        action="store_true",
        help="average KL over every position, padding included, as the reference code does",
    )
    hyper.add_argument(
        "--sure-percentile",
        type=float_in(0.0, 100.0, True, True),
        help="SURE keeps gradient rows at or above it (99)",
    )
    hyper.add_argument(
        "--max-length", type=POSITIVE_INT, help="truncate examples to this many tokens"
    )
    hyper.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), help="weights dtype")
    add_mixed_precision(hyper, "the forward passes (default: the preset's; smollm2-135m auto)")
    hyper.add_argument(
        "--save-every",
        type=NON_NEGATIVE_INT,
        help="steps between checkpoints (default: each epoch; 0: end only)",
    )
    hyper.add_argument("--seed", type=int)


def _target_arguments(parser: argparse.ArgumentParser) -> None:
    """The forget target: train every method to the same forget recall."""
    target = parser.add_argument_group(
        "forget target (train every method to the same forgetting level; see docs/train.md)"
    )
    target.add_argument(
        "--stop-at-recall",
        type=FRACTION_BELOW_1,
        metavar="R",
        help="stop at the first check where forget recall (greedy answers, the eval's matcher) "
        "is <= R, e.g. 0.2; the epochs (or --max-steps) are then the cap",
    )
    target.add_argument(
        "--check-every",
        type=NON_NEGATIVE_INT,
        metavar="N",
        help="optimizer steps between checks (default: each epoch)",
    )
    target.add_argument(
        "--check-near-target",
        type=FRACTION_BELOW_1,
        metavar="D",
        help="once forget recall is within D of the target, check four times as often (0: off)",
    )
    target.add_argument(
        "--max-steps", type=POSITIVE_INT, help="step cap (default: epochs x steps per epoch)"
    )


def run(args: argparse.Namespace) -> int:
    from unlearn.outputs import writable_parent
    from unlearn.training.config import TrainConfig
    from unlearn.training.run import train

    writable_parent(args.out)  # an unwritable --out fails before the training, not after it
    config = TrainConfig.for_preset(
        args.model,
        args.method,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        warmup_ratio=args.warmup_ratio,
        weight_decay=args.weight_decay,
        max_grad_norm=args.max_grad_norm,
        lora=args.lora,
        lora_r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        beta=args.beta,
        forget_weight=args.forget_weight,
        retain_weight=args.retain_weight,
        kl_weight=args.kl_weight,
        kl_positions="all" if args.kl_all_positions else None,
        sure_percentile=args.sure_percentile,
        max_length=args.max_length,
        dtype=args.dtype,
        mixed_precision=args.mixed_precision,
        save_every=args.save_every,
        stop_at_recall=args.stop_at_recall,
        check_every=args.check_every,
        check_near_target=args.check_near_target,
        max_steps=args.max_steps,
        seed=args.seed,
    )
    card = train(
        args.method,
        args.model,
        args.forget,
        args.retain,
        args.out,
        config,
        relearn_data=args.relearn_data,
        overwrite=args.overwrite,
        resume=args.resume,
    )
    losses = card["losses"] or [float("nan")]
    print(
        f"saved {args.out}: {args.method}, {card['step']} steps, loss {losses[0]:.4f} -> {losses[-1]:.4f}"
    )
    if "forget_target" in card:
        target, dose = card["forget_target"], card["dose"]
        state = "reached" if target["reached"] else "NOT reached (best checked step kept)"
        print(
            f"forget target recall <= {target['recall_at_most']}: {state}; kept step "
            f"{dose['steps']} ({dose['examples_seen']} examples), forget recall {dose['forget_recall']:.3f}"
        )
    return 0
