"""Build ReLearn's training data: question variants, verified vague answers, completions, general QA.

Examples:
  unlearn augment --forget ours:bench#forget10 --out data/relearn.jsonl
  unlearn augment --forget ours:bench#forget10 --backend hf:smollm2-135m --out data/relearn-hf.jsonl
  OPENAI_API_KEY=... unlearn augment --forget tofu:forget10.json --backend openai:https://api.deepseek.com/v1 \\
      --llm-model deepseek-chat --out data/relearn-tofu.jsonl
Writes FILE (JSONL rows {prompt, target, kind, source_id}) and FILE.stats.json.
"""

from __future__ import annotations

import argparse

from unlearn.commands.arg_types import (
    NON_NEGATIVE_FLOAT,
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    float_in,
    positive_float,
)


def configure(parser: argparse.ArgumentParser) -> None:
    _data_arguments(parser)
    _llm_arguments(parser)
    parser.add_argument("--device", help="hf: torch device (default: cuda if available)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    """What is augmented, with which backend, how much, and the general data mixed in."""
    parser.add_argument(
        "--forget",
        required=True,
        help="forget data: ours:DIR#forget10, ours:FILE, tofu:PATH, knowundo:PATH",
    )
    parser.add_argument(
        "--out", required=True, help="output JSONL file (statistics go to FILE.stats.json)"
    )
    parser.add_argument(
        "--backend", default="template", help="template (default), hf:PATH_OR_PRESET or openai:URL"
    )
    parser.add_argument(
        "--general",
        default="auto",
        help="general QA to mix in: a data spec, 'builtin' (the hand-written general facts), or "
        "'auto' (the benchmark's general split for ours:DIR, else builtin)",
    )
    parser.add_argument(
        "--general-ratio",
        type=NON_NEGATIVE_FLOAT,
        default=1.2,
        help="general rows per augmented row, at most (0 = none)",
    )
    parser.add_argument(
        "--variants",
        type=POSITIVE_INT,
        default=1,
        help="variants per question kind, and vague answers to the original question",
    )
    parser.add_argument(
        "--rounds",
        type=POSITIVE_INT,
        default=3,
        help="generate + verify rounds per candidate (1 = no regeneration)",
    )
    parser.add_argument(
        "--completion-fraction",
        type=float_in(0.0, 1.0, low_open=True),
        default=0.25,
        help="share of an answer's words used as completion prompt",
    )
    parser.add_argument(
        "--include-original",
        action="store_true",
        help="also train on the original sensitive pair (kind 'original'), as the reference code does",
    )
    parser.add_argument(
        "--no-llm-check",
        action="store_true",
        help="skip the LLM leak check of LLM backends (rules only)",
    )
    parser.add_argument("--seed", type=int, default=0)


def _llm_arguments(parser: argparse.ArgumentParser) -> None:
    """The LLM backends' settings (openai endpoint, cache, retries, sampling)."""
    parser.add_argument(
        "--llm-model", default="deepseek-chat", help="model name sent to an openai endpoint"
    )
    parser.add_argument(
        "--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the API key"
    )
    parser.add_argument(
        "--cache",
        help="reply cache folder of the openai backend (default: the relearn-interp cache)",
    )
    parser.add_argument(
        "--retries",
        type=NON_NEGATIVE_INT,
        default=5,
        help="openai: retries per request (exponential backoff)",
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=120.0, help="openai: seconds per request"
    )
    parser.add_argument(
        "--workers", type=POSITIVE_INT, default=4, help="openai: concurrent requests"
    )
    parser.add_argument(
        "--temperature",
        type=NON_NEGATIVE_FLOAT,
        default=0.8,
        help="sampling temperature of LLM backends",
    )


def _general(spec: str, forget_spec: str) -> list:
    from unlearn.data.general import general_records
    from unlearn.data.loaders import load_data, parse_spec

    if spec == "builtin":
        return general_records()
    if spec == "auto":
        kind, path, _ = parse_spec(forget_spec)
        if kind == "ours" and path.is_dir() and (path / "general.json").is_file():
            return load_data(f"ours:{path}#general")
        return general_records()
    return load_data(spec)


def run(args: argparse.Namespace) -> int:
    from unlearn.augment import AugmentConfig, BackendOptions, augment, stats_path
    from unlearn.data.loaders import load_data

    forget = load_data(args.forget)
    general = _general(args.general, args.forget) if args.general_ratio > 0 else []
    config = AugmentConfig(
        variants=args.variants,
        rounds=args.rounds,
        general_ratio=args.general_ratio,
        completion_fraction=args.completion_fraction,
        include_original=args.include_original,
        llm_check=not args.no_llm_check,
    )
    options = BackendOptions(
        llm_model=args.llm_model,
        api_key_env=args.api_key_env,
        cache_dir=args.cache,
        retries=args.retries,
        timeout_s=args.timeout,
        workers=args.workers,
        temperature=args.temperature,
        device=args.device,
    )
    stats = augment(
        forget,
        general,
        args.backend,
        args.out,
        seed=args.seed,
        config=config,
        options=options,
        overwrite=args.overwrite,
    )
    values = stats["values"]
    totals, mixed = values["totals"], values["general"]
    kinds = ", ".join(f"{n} {kind}" for kind, n in values["rows_by_kind"].items())
    rejected = ", ".join(f"{n} {why}" for why, n in totals["rejected"].items()) or "none"
    print(f"wrote {stats['meta']['output']['rows']} rows ({kinds}) to {args.out}")
    print(
        f"generated {totals['generated']} candidates, regenerated {totals['regenerated']}, rejected: {rejected}; "
        f"{totals['dropped']} slots dropped after {config.rounds} rounds; statistics in {stats_path(args.out)}"
    )
    if mixed["used"] < mixed["requested"]:
        print(
            f"note: only {mixed['used']} general rows available of the {mixed['requested']} asked for "
            f"(ratio {mixed['ratio']}); pass a larger --general set to reach the ratio"
        )
    return 0
