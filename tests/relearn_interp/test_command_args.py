"""The typed arguments of the analysis commands: the command line and the dataclass agree on
every default, a child rebuilds the same dataclass from JSON, and a renamed field fails at once."""

from __future__ import annotations

import argparse
import json

import pytest

from relearn_interp.cli import COMMANDS
from relearn_interp.command_args import (
    CircuitArgs,
    CircuitDiffArgs,
    ErasureArgs,
    LensArgs,
    ShiftArgs,
    from_namespace,
    read_args,
    write_args,
)
from unlearn.commands import build_parser

CHECKPOINTS = (("vanilla", "ckpt/vanilla"), ("ga", "ckpt/ga"))
# the required flags of each command, and the dataclass built from the same values
REQUIRED = {
    "logit-lens": (
        ["--ckpt", "vanilla=ckpt/vanilla", "--ckpt", "ga=ckpt/ga", "--data", "d", "--out", "o"],
        LensArgs(checkpoints=CHECKPOINTS, data="d", out="o"),
    ),
    "shift": (
        ["--base", "vanilla=ckpt/vanilla", "--ckpt", "ga=ckpt/ga", "--data", "d", "--out", "o"],
        ShiftArgs(checkpoints=CHECKPOINTS, data="d", out="o"),
    ),
    "erasure": (
        [
            "--base",
            "vanilla=ckpt/vanilla",
            "--ckpt",
            "ga=ckpt/ga",
            "--data",
            "d",
            "--out",
            "o",
            "--retain",
            "r",
        ],  # fmt: skip
        ErasureArgs(checkpoints=CHECKPOINTS, data="d", out="o", retain="r"),
    ),
    "circuit": (
        ["--ckpt", "ckpt/vanilla", "--out", "o"],
        CircuitArgs(ckpt="ckpt/vanilla", out="o"),
    ),
    "circuit-diff": (
        ["--ckpt", "vanilla=ckpt/vanilla", "--ckpt", "ga=ckpt/ga", "--out", "o"],
        CircuitDiffArgs(checkpoints=CHECKPOINTS, out="o"),
    ),
}


def parsed(command: str, argv: list[str]) -> argparse.Namespace:
    parser = build_parser("relearn-interp", "", {command: COMMANDS[command]})
    return parser.parse_args([command, *argv])


@pytest.mark.parametrize("command", sorted(REQUIRED))
def test_the_command_line_defaults_are_the_dataclass_defaults(command):
    argv, expected = REQUIRED[command]
    namespace = parsed(command, argv)
    given = {"checkpoints": CHECKPOINTS} if hasattr(expected, "checkpoints") else {}
    assert from_namespace(type(expected), namespace, **given) == expected


@pytest.mark.parametrize("command", ["logit-lens", "shift", "erasure", "circuit-diff"])
def test_a_child_rebuilds_the_same_arguments(command, tmp_path):
    _, args = REQUIRED[command]
    path = write_args(args, tmp_path / "args.json")
    assert read_args(path) == (command, args)


def test_a_renamed_field_fails_before_the_command_runs(tmp_path):
    path = write_args(REQUIRED["erasure"][1], tmp_path / "args.json")
    payload = json.loads(path.read_text())
    payload["args"]["relearn_batch_size"] = payload["args"].pop("relearn_batch")
    path.write_text(json.dumps(payload))
    with pytest.raises(TypeError, match="relearn_batch_size"):
        read_args(path)
    with pytest.raises(TypeError):
        ErasureArgs(checkpoints=CHECKPOINTS, data="d", out="o", retain="r", batch=4)
