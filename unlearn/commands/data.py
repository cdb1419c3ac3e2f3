"""Build the TOFU-format fictitious-author benchmark: `unlearn data build --out DIR`."""

from __future__ import annotations

import argparse

from unlearn.commands.arg_types import int_between


def _pcts(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["build"], help="what to do")
    parser.add_argument("--out", required=True, help="output folder (JSON files per split)")
    parser.add_argument(
        "--authors",
        type=int_between(2, 200),
        default=20,
        help="number of fictitious authors (2-200)",
    )
    parser.add_argument("--seed", type=int, default=0, help="generator seed")
    parser.add_argument(
        "--forget-pcts",
        type=_pcts,
        default=(1, 5, 10),
        help="forget split sizes in percent of authors",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing output folder"
    )


def run(args: argparse.Namespace) -> int:
    from unlearn.data.benchmark import build_world, write_world

    world = build_world(args.authors, args.seed, args.forget_pcts)
    out = write_world(world, args.out, overwrite=args.overwrite)
    print(
        f"wrote {len(world.records)} author QA rows, {len(world.general)} general rows, "
        f"splits {', '.join(world.split_names())} to {out}"
    )
    return 0
