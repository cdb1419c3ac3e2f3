"""Arguments and inputs shared by the analysis commands: checkpoints, data, dtype, device, outputs
(parsed into the typed arguments of `relearn_interp.command_args`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from unlearn.commands.arg_types import POSITIVE_INT

if TYPE_CHECKING:
    from relearn_interp.command_args import BridgeArgs, Checkpoint, DataArgs

DTYPES = ("float32", "bfloat16", "float16")


def add_base_and_checkpoints(
    parser: argparse.ArgumentParser, base_help: str, ckpt_help: str
) -> None:
    """--base (one checkpoint) and --ckpt (repeated): the commands that compare against a base."""
    parser.add_argument("--base", required=True, metavar="[LABEL=]CKPT", help=base_help)
    parser.add_argument(
        "--ckpt", action="append", required=True, metavar="[LABEL=]CKPT", help=ckpt_help
    )


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """--data, --out, --max-prompts, --seed and --overwrite: what every analysis command takes."""
    parser.add_argument(
        "--data", required=True, help="ours:DIR[#split], ours:FILE, tofu:PATH or knowundo:PATH"
    )
    parser.add_argument(
        "--out",
        required=True,
        help="output folder (results JSON and PNG+PDF figures), written whole or not at all",
    )
    parser.add_argument(
        "--max-prompts",
        type=POSITIVE_INT,
        help="analyse a seeded sample of at most this many records",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the --max-prompts sample and any other draw"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """`add_data_arguments` and the options of commands that load TransformerBridges."""
    add_data_arguments(parser)
    parser.add_argument(
        "--dtype", choices=DTYPES, default="float32", help="weights and activations dtype"
    )
    parser.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: cuda when available)")
    parser.add_argument(
        "--device-map", help="accelerate device map for models larger than one device (e.g. auto)"
    )
    parser.add_argument(
        "--batch-size", type=POSITIVE_INT, default=8, help="prompts per forward pass"
    )


def parse_checkpoint(text: str) -> Checkpoint:
    """`LABEL=PATH`, or a bare checkpoint (label None: its card's method or its folder name)."""
    label, sep, path = text.partition("=")
    if sep and label and "/" not in label and not Path(text).exists():
        return label, path
    return None, text


def checkpoint_texts(texts: list[str]) -> tuple[Checkpoint, ...]:
    """The `[LABEL=]CKPT` values of the command line as (label or None, checkpoint) pairs."""
    return tuple(parse_checkpoint(text) for text in texts)


def checkpoint_specs(checkpoints: tuple[Checkpoint, ...]) -> dict[str, str]:
    """Label -> checkpoint (unlabelled ones named by their card or folder), refusing a label
    given twice."""
    from relearn_interp.load import checkpoint_label
    from unlearn.errors import UserError

    specs: dict[str, str] = {}
    for given, path in checkpoints:
        label = given if given is not None else checkpoint_label(path)
        if label in specs:
            raise UserError(
                f"two checkpoints are labelled {label!r} ({specs[label]} and {path}); name them LABEL=PATH"
            )
        specs[label] = path
    return specs


def load_checkpoints(specs: dict[str, str], args: BridgeArgs) -> dict:
    """Load every checkpoint into a TransformerBridge, after checking that their tokenizers agree."""
    import torch

    from relearn_interp.load import load, require_same_vocab
    from unlearn.devices import resolve_device
    from unlearn.models.loading import load_tokenizer

    device = None if args.device_map else resolve_device(args.device)
    require_same_vocab({label: load_tokenizer(path) for label, path in specs.items()})
    dtype = getattr(torch, args.dtype)
    return {
        label: load(path, dtype=dtype, device=device, device_map=args.device_map)
        for label, path in specs.items()
    }


def load_records(args: DataArgs) -> tuple[list, list]:
    """(the analysed records, all records of the data) — the latter gives entities their other facts."""
    from relearn_interp.prompts import sample_records
    from unlearn.data.loaders import load_data
    from unlearn.errors import UserError

    records = load_data(args.data)
    if not records:
        raise UserError(
            f"data {args.data} holds no records; give a file or split with at least one QA record"
        )
    return sample_records(records, args.max_prompts, args.seed), records


def check_top_k(models: dict, top_k: int) -> None:
    """Refuse a --top-k larger than the vocabulary, once the models are loaded (before any work)."""
    from unlearn.errors import UserError

    for label, model in models.items():
        if top_k > model.cfg.d_vocab:
            raise UserError(
                f"--top-k {top_k} is larger than the vocabulary of {label} "
                f"({model.cfg.d_vocab} tokens); lower it"
            )


def run_meta(args: BridgeArgs, specs: dict[str, str], n_records: int, model) -> dict:
    """What the command line adds to a result's meta: data spec, sampling, dtype and device."""
    device = (
        f"device_map={args.device_map}" if args.device_map else str(next(model.parameters()).device)
    )
    return {
        "data": args.data,
        "n_records_in_data": n_records,
        "max_prompts": args.max_prompts,
        "seed": args.seed,
        "dtype": args.dtype,
        "device": device,
        "checkpoints": specs,
    }
