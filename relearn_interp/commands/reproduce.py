"""The main job: benchmark, vanilla model, ReLearn data, unlearning, evaluation, mechanisms, report.

Each stage is cached by the hash of its inputs under --work (default runs/PRESET), so a rerun
redoes only what changed. Figures and REPORT.md go to --figures (default figures/ for the
smollm2-135m preset, runs/PRESET/figures otherwise).

Example: relearn-interp reproduce --preset tiny
"""

from __future__ import annotations

import argparse

from unlearn.commands.arg_types import add_mixed_precision, int_between


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="smollm2-135m", help="tiny or smollm2-135m")
    parser.add_argument("--work", help="folder of the cached stages (default runs/PRESET)")
    parser.add_argument("--figures", help="where figures and REPORT.md go")
    parser.add_argument(
        "--methods",
        help="comma-separated unlearning methods (default ga_gdr,npo_gdr,ga_gdr_sure,npo_gdr_sure,relearn)",
    )
    parser.add_argument(
        "--authors",
        type=int_between(2, 200),
        help="fictitious authors in the benchmark (2-200, default 20)",
    )
    parser.add_argument("--seed", type=int, help="seed of every stage (default 0)")
    parser.add_argument(
        "--vanilla",
        help="start from this vanilla checkpoint (fine-tuned on the same benchmark) "
        "instead of fine-tuning one",
    )
    add_mixed_precision(
        parser,
        "every stage that trains or patches (default: each stage's preset default; smollm2-135m auto)",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from relearn_interp.main.job import reproduce
    from relearn_interp.main.settings import ReproduceSettings

    methods = tuple(m.strip() for m in args.methods.split(",")) if args.methods else None
    settings = ReproduceSettings.for_preset(
        args.preset,
        methods=methods,
        authors=args.authors,
        seed=args.seed,
        vanilla=args.vanilla,
        mixed_precision=args.mixed_precision,
    )
    if methods:
        from unlearn.methods import get_method

        for method in methods:
            get_method(method)
    work = Path(args.work or f"runs/{args.preset}")
    figures = Path(
        args.figures or ("figures" if args.preset == "smollm2-135m" else work / "figures")
    )
    report = reproduce(settings, work, figures)
    print(f"report: {report}")
    return 0
