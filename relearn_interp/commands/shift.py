"""Token-distribution shift: compare each checkpoint's next-token distributions with the base model's.

Writes shift.json (meta, per-model means, rank buckets and moved mass by destination, per-position
numbers) and the figures shift_entropy, shift_rank and shift_mass (PNG and PDF).

Example: relearn-interp shift --base ckpt/vanilla --ckpt ckpt/ga --ckpt ckpt/relearn --data ours:bench#forget10 --out results/interp/shift-forget
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from relearn_interp import layout
from relearn_interp.commands.analysis_args import add_base_and_checkpoints, add_common_arguments
from unlearn.commands.arg_types import int_at_least

if TYPE_CHECKING:
    from relearn_interp.command_args import ShiftArgs

RESULTS = layout.SHIFT_RESULTS  # the results file this command writes
FIGURES = ("shift_entropy", "shift_rank", "shift_mass")


def configure(parser: argparse.ArgumentParser) -> None:
    add_base_and_checkpoints(
        parser,
        "the reference (vanilla) checkpoint",
        "an unlearned checkpoint to compare (repeat for several)",
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--top-k",
        type=int_at_least(2),
        default=10,
        help="k of the top-k overlap and of the base's candidates (at least 2)",
    )


def run(args: argparse.Namespace) -> int:
    from relearn_interp.command_args import ShiftArgs, from_namespace
    from relearn_interp.commands.analysis_args import checkpoint_texts

    checkpoints = checkpoint_texts([args.base, *args.ckpt])
    return execute(from_namespace(ShiftArgs, args, checkpoints=checkpoints))


def execute(args: ShiftArgs) -> int:
    """Run the command from its typed arguments (the command line's, or a child process's)."""
    from relearn_interp.commands.analysis_args import (
        check_top_k,
        checkpoint_specs,
        load_checkpoints,
        load_records,
        run_meta,
    )
    from relearn_interp.plots.shift import plot_shift
    from relearn_interp.shift import distribution_shift
    from unlearn.io import atomic_dir, write_json

    specs = checkpoint_specs(args.checkpoints)
    base_label = next(iter(specs))
    with atomic_dir(args.out, overwrite=args.overwrite) as tmp:
        records, all_records = load_records(args)
        models = load_checkpoints(specs, args)
        check_top_k(models, args.top_k)
        base = models.pop(base_label)
        results = distribution_shift(
            base,
            models,
            records,
            base_label=base_label,
            top_k=args.top_k,
            batch_size=args.batch_size,
        )
        results["meta"].update(run_meta(args, specs, len(all_records), base))
        write_json(tmp / RESULTS, results)
        plot_shift(results, tmp)
    for label, values in results["values"]["models"].items():
        mean = values["mean"]
        print(
            f"{label}: JS {mean['js']:.3f} nats, entropy change {mean['entropy_change']:+.2f}, "
            f"{base_label} top-1 kept {values['base_top1_kept_rate']:.0%}, moved mass to unrelated+malformed "
            f"{values['moved_fraction']['unrelated'] + values['moved_fraction']['malformed']:.0%}"
        )
    print(f"wrote {RESULTS} and {len(FIGURES)} figures (PNG+PDF) to {args.out}")
    return 0
