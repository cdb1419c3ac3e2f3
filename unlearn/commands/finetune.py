"""Fine-tune the vanilla target model on the whole benchmark (loss on answer tokens only).

Example: unlearn finetune --base smollm2-135m --data ours:bench --out ckpt/vanilla
"""

from __future__ import annotations

import argparse

from unlearn.commands.arg_types import (
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    add_mixed_precision,
    positive_float,
    recall_target,
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base", required=True, help="preset (tiny, smollm2-135m), HF folder or hub id"
    )
    parser.add_argument("--data", required=True, help="ours:DIR, tofu:PATH or knowundo:PATH")
    parser.add_argument("--out", required=True, help="output checkpoint folder")
    parser.add_argument("--epochs", type=POSITIVE_INT, help="epochs (preset default)")
    parser.add_argument("--lr", type=positive_float, help="learning rate (preset default)")
    parser.add_argument("--batch-size", type=POSITIVE_INT, help="batch size (preset default)")
    parser.add_argument("--grad-accum", type=POSITIVE_INT, help="gradient accumulation steps")
    parser.add_argument("--lora", action="store_true", help="train a LoRA adapter (merged on save)")
    add_mixed_precision(parser, "the forward passes (default: the preset's; smollm2-135m auto)")
    parser.add_argument(
        "--recall-target",
        type=recall_target,
        help="stop at the first check whose greedy fact recall reaches this (default 1.0: every "
        "fact; 'none': train every epoch); the epochs are the cap",
    )
    parser.add_argument(
        "--check-every",
        type=NON_NEGATIVE_INT,
        help="optimizer steps between recall checks (default 0: once an epoch)",
    )
    parser.add_argument(
        "--general-facts",
        action=argparse.BooleanOptionalAction,
        help="also train the benchmark's general facts (preset default: tiny yes, smollm2 no)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing output folder"
    )


def run(args: argparse.Namespace) -> int:
    from unlearn.errors import UserError
    from unlearn.outputs import writable_parent
    from unlearn.precision import describe
    from unlearn.presets import PRESETS
    from unlearn.training.finetune import FinetuneConfig, finetune

    writable_parent(args.out)  # an unwritable --out fails before the training, not after it
    if "/" not in args.base and args.base not in PRESETS and not args.base.startswith("."):
        raise UserError(
            f"unknown preset {args.base!r}; valid presets: {', '.join(PRESETS)} (or a folder)"
        )
    config = FinetuneConfig.for_preset(
        args.base,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        lora=args.lora or None,
        mixed_precision=args.mixed_precision,
        general_facts=args.general_facts,
        check_every=args.check_every,
        seed=args.seed,
    )
    if args.recall_target is not None:
        config.recall_target = args.recall_target or None
    card = finetune(args.base, args.data, args.out, config, overwrite=args.overwrite)
    recall = ", ".join(f"{name} {value:.1%}" for name, value in card["recall"].items())
    target = card.get("recall_target")
    stopped = ""
    if target:
        reached = "reached" if target["reached"] else "NOT reached"
        stopped = f"; target {target['recall_at_least']:.0%} {reached} after {target['epochs_needed']} epochs"
    print(f"saved {args.out} ({describe(card['precision'])}){stopped}; fact recall: {recall}")
    return 0
