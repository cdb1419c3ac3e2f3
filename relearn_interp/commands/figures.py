"""Redraw every figure and REPORT.md from the saved results of `relearn-interp reproduce`, without recomputing.

Example: relearn-interp figures --results runs/smollm2-135m --out figures
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--results", required=True, help="the work folder of a reproduce run (runs/PRESET)"
    )
    parser.add_argument("--out", help="where figures and REPORT.md go (default RESULTS/figures)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from relearn_interp.reproduce import redraw

    report = redraw(args.results, Path(args.out or Path(args.results) / "figures"))
    print(f"redrew the figures and {report}")
    return 0
