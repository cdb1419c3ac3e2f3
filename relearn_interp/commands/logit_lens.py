"""Logit lens: decode every layer's residual stream of each checkpoint at the gold answer positions.

Writes logit_lens.json (meta, per-layer means and summaries per checkpoint, per-prompt numbers) and
the figures logit_lens_layers and logit_lens_heatmap (the cross-layer decoding of one prompt; PNG
and PDF), and with --full-heatmap logit_lens_heatmap_full.pdf (every layer and answer position).

Example: relearn-interp logit-lens --ckpt ckpt/vanilla --ckpt ga=ckpt/ga --data ours:bench#forget10 --out results/interp/lens-forget
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from relearn_interp import layout
from relearn_interp.commands.analysis_args import add_common_arguments
from unlearn.commands.arg_types import POSITIVE_INT

if TYPE_CHECKING:
    from relearn_interp.command_args import LensArgs

RESULTS = layout.LENS_RESULTS  # the results file this command writes
FIGURES = ("logit_lens_layers", "logit_lens_heatmap")
FULL_HEATMAP = "logit_lens_heatmap_full"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ckpt",
        action="append",
        required=True,
        metavar="[LABEL=]CKPT",
        help="checkpoint folder, adapter folder, preset or hub id (repeat to compare)",
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--layers",
        help="comma-separated block indices to decode (negative from the end; default all)",
    )
    parser.add_argument(
        "--mid", action="store_true", help="also decode the mid-layer stream (after attention)"
    )
    parser.add_argument(
        "--top-k", type=POSITIVE_INT, default=5, help="decoded tokens kept at the gold position"
    )
    parser.add_argument(
        "--positions",
        choices=("answer", "slots"),
        default="answer",
        help="decode every gold answer position (answer), or only the answer start and the "
        "knowledge slot (slots: faster, no per-layer means over the whole answer)",
    )
    parser.add_argument(
        "--heatmap-items",
        type=POSITIVE_INT,
        default=4,
        help="prompts whose layer × position grid is kept",
    )
    parser.add_argument(
        "--prompt",
        metavar="ID",
        help="record id of the prompt the cross-layer decoding figure shows (default: the first)",
    )
    parser.add_argument(
        "--full-heatmap",
        action="store_true",
        help="also write logit_lens_heatmap_full.pdf: every layer and answer position",
    )


def parse_layers(text: str | None) -> list[int] | None:
    from unlearn.errors import UserError

    if not text:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(
            f"--layers {text!r} must be comma-separated integers, e.g. 0,4,-1"
        ) from None


def run(args: argparse.Namespace) -> int:
    from relearn_interp.command_args import LensArgs, from_namespace
    from relearn_interp.commands.analysis_args import checkpoint_texts

    return execute(from_namespace(LensArgs, args, checkpoints=checkpoint_texts(args.ckpt)))


def execute(args: LensArgs) -> int:
    """Run the command from its typed arguments (the command line's, or a child process's)."""
    from relearn_interp.commands.analysis_args import (
        check_top_k,
        checkpoint_specs,
        load_checkpoints,
        load_records,
        run_meta,
    )
    from relearn_interp.lens.run import logit_lens
    from relearn_interp.plots.lens import plot_logit_lens
    from unlearn.io import atomic_dir, write_json

    layers = parse_layers(args.layers)
    specs = checkpoint_specs(args.checkpoints)
    with atomic_dir(args.out, overwrite=args.overwrite) as tmp:
        records, all_records = load_records(args)
        models = load_checkpoints(specs, args)
        check_top_k(models, args.top_k)
        results = logit_lens(
            models,
            records,
            context=all_records,
            layers=layers,
            mid=args.mid,
            top_k=args.top_k,
            grid_items=args.heatmap_items,
            batch_size=args.batch_size,
            positions=args.positions,
            heatmap_prompt=args.prompt,
        )
        first = next(iter(models.values()))
        results["meta"].update(run_meta(args, specs, len(all_records), first))
        write_json(tmp / RESULTS, results)
        plot_logit_lens(results, tmp, full_heatmap=args.full_heatmap)
    for label, values in results["values"]["checkpoints"].items():
        summary = values["summary"]
        print(
            f"{label}: gold prob max over layers {summary['max_target_prob']:.3f} vs output "
            f"{summary['output_target_prob']:.3f}; in top-10 inside but not at the output: "
            f"{summary['hidden_top10_fraction']:.0%}"
        )
    print(f"wrote {RESULTS} and {len(FIGURES)} figures (PNG+PDF) to {args.out}")
    return 0
