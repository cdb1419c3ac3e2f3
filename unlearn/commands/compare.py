"""Compare `unlearn eval` results: rows = checkpoints, columns = metrics, best per column in bold.

Example: unlearn compare results/*.json --out results/compare   (writes compare.md and compare.csv)
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="+", help="results JSON files written by `unlearn eval`")
    parser.add_argument(
        "--out", help="write OUT.md and OUT.csv as well as printing the Markdown table"
    )
    parser.add_argument(
        "--all", action="store_true", help="every metric, not only the headline ones"
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from unlearn.eval.compare import build_table
    from unlearn.io import write_text

    if args.out:  # an unwritable --out fails before the files are read
        from unlearn.outputs import writable_parent

        writable_parent(Path(args.out + ".md"))
    table = build_table(args.results, all_metrics=args.all)
    markdown = table.markdown()
    print(markdown, end="")
    if args.out:
        out = Path(args.out)
        write_text(out.with_name(out.name + ".md"), markdown)
        write_text(out.with_name(out.name + ".csv"), table.csv())
        print(f"saved {out}.md and {out}.csv")
    return 0
