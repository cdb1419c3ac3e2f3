"""Redraw every figure and REPORT.md from the saved results of `relearn-interp reproduce`, without recomputing.

Example: relearn-interp figures --results runs/smollm2-135m --out figures
"""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--results", required=True, help="the work folder of a reproduce run (runs/PRESET)"
    )
    parser.add_argument("--out", help="where figures and REPORT.md go (default RESULTS/figures)")


def check_run_summary(results: Path) -> None:
    """Refuse a run.json that `redraw` cannot use, in one line naming the bad field, before drawing."""
    from dataclasses import MISSING, fields

    from relearn_interp.layout import RUN_FILE
    from relearn_interp.main.settings import LEGACY_SETTINGS, ReproduceSettings
    from unlearn.errors import UserError
    from unlearn.eval.results_file import RunSummary, check_shape
    from unlearn.io import read_json

    path = results / RUN_FILE
    info = read_json(path, what="run summary (finish `relearn-interp reproduce` first)")
    check_shape(info, RunSummary, path, "run summary", "a `relearn-interp reproduce` run summary")
    known = {f.name for f in fields(ReproduceSettings)}
    required = {
        f.name
        for f in fields(ReproduceSettings)
        if f.default is MISSING and f.default_factory is MISSING
    }
    unknown = sorted(set(info["settings"]) - known - set(LEGACY_SETTINGS))
    missing = sorted(required - set(info["settings"]))
    if unknown or missing:
        problem = f"unknown key(s) {', '.join(unknown)}" if unknown else ""
        problem += ("; " if problem and missing else "") + (
            f"missing key(s) {', '.join(missing)}" if missing else ""
        )
        raise UserError(
            f"run summary {path} has settings this version cannot use ({problem}); restore the "
            "file or rerun `relearn-interp reproduce`"
        )


def run(args: argparse.Namespace) -> int:
    from relearn_interp.main.job import redraw
    from unlearn.outputs import writable_parent

    results = Path(args.results)
    out = Path(args.out or results / "figures")
    check_run_summary(results)
    writable_parent(out / "REPORT.md", flag="--out")
    report = redraw(results, out)
    print(f"redrew the figures and {report}")
    return 0
