"""The typed arguments of the analysis commands: one frozen dataclass per command, one field per
flag (the argparse destination's name and default).

A command line parses into one (`from_namespace`); the main job builds one and hands it to a
child process as JSON (`write_args`, then `relearn_interp.commands.child` reads it back with
`read_args`). A renamed field then fails where the dataclass is built, in the parent, rather than
as an unknown flag at run time in a child. Checkpoints are (label, checkpoint) pairs, the base or
reference first; a label None is the checkpoint's card's method (or its folder name), resolved by
the command as `[LABEL=]CKPT` without a label is.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from relearn_interp.circuits.sizing import MIB_GRID

Checkpoint = tuple[str | None, str]  # (label, or None for the card's; checkpoint)


@dataclass(frozen=True, kw_only=True)
class DataArgs:
    """What every analysis command takes: the data, the output folder, the sample and the seed."""

    data: str
    out: str
    max_prompts: int | None = None
    seed: int = 0
    overwrite: bool = False


@dataclass(frozen=True, kw_only=True)
class BridgeArgs(DataArgs):
    """The commands that load TransformerBridges: dtype, device placement and batch size too."""

    dtype: str = "float32"
    device: str | None = None
    device_map: str | None = None
    batch_size: int = 8


@dataclass(frozen=True, kw_only=True)
class LensArgs(BridgeArgs):
    """`relearn-interp logit-lens`."""

    checkpoints: tuple[Checkpoint, ...]
    layers: str | None = None
    mid: bool = False
    top_k: int = 5
    positions: str = "answer"
    heatmap_items: int = 4
    prompt: str | None = None
    full_heatmap: bool = False


@dataclass(frozen=True, kw_only=True)
class ShiftArgs(BridgeArgs):
    """`relearn-interp shift` (the first checkpoint is the base)."""

    checkpoints: tuple[Checkpoint, ...]
    top_k: int = 10


@dataclass(frozen=True, kw_only=True)
class ErasureArgs(DataArgs):
    """`relearn-interp erasure` (the first checkpoint is the base)."""

    checkpoints: tuple[Checkpoint, ...]
    retain: str
    top_k: int = 10
    variants: tuple[str, ...] = ("slot",)
    min_gap: float = 1.0
    relearn_steps: int = 5
    relearn_batch: int = 8
    relearn_lr: float | None = None
    bits: tuple[int, ...] = (8, 4)
    max_new_tokens: int = 48
    mixed_precision: str = "auto"
    chunk_size: int = 8
    device: str | None = None


@dataclass(frozen=True, kw_only=True)
class CircuitOptions:
    """Pairs, scoring, sizing and run options shared by `circuit` and `circuit-diff`."""

    entity: tuple[str, ...] = ()
    entities: str | None = None
    data: str | None = None
    pairs: str | None = None
    partners_per_fact: int = 3
    partners: str | None = None
    answer_tokens: int = 8
    max_pairs: int | None = None
    out: str
    method: str = "eap-ig"
    ig_steps: int = 5
    metric: str = "auto"
    target: float = 0.8
    grid: tuple[float, ...] = MIB_GRID
    select: str = "top-n"
    edges: int | None = None
    threshold: float | None = None
    batch_size: int = 8
    layers_per_chunk: int | None = None
    positions_per_chunk: int | None = None
    dtype: str = "float32"
    device: str | None = None
    seed: int = 0
    overwrite: bool = False


@dataclass(frozen=True, kw_only=True)
class CircuitArgs(CircuitOptions):
    """`relearn-interp circuit`."""

    ckpt: str


@dataclass(frozen=True, kw_only=True)
class CircuitDiffArgs(CircuitOptions):
    """`relearn-interp circuit-diff` (the first checkpoint is the reference)."""

    checkpoints: tuple[Checkpoint, ...]
    tolerance: float = 0.1
    subject_share: float = 0.5


# the commands a child process can run from a file of typed arguments
CHILD_COMMANDS: dict[str, type] = {
    "logit-lens": LensArgs,
    "shift": ShiftArgs,
    "circuit-diff": CircuitDiffArgs,
    "erasure": ErasureArgs,
}


def _normalised(value: Any) -> Any:
    """Lists (from argparse or JSON, nested too) as tuples, so both routes build equal dataclasses."""
    return tuple(_normalised(item) for item in value) if isinstance(value, list | tuple) else value


def from_namespace(cls: type, namespace: argparse.Namespace, **given: Any):
    """`cls` from parsed arguments: each field from the namespace, unless given."""
    values = {
        f.name: _normalised(given[f.name] if f.name in given else getattr(namespace, f.name))
        for f in fields(cls)
    }
    return cls(**values)


def command_of(args: object) -> str:
    """The child command that runs `args`."""
    return next(name for name, cls in CHILD_COMMANDS.items() if type(args) is cls)


def write_args(args: object, path: Path) -> Path:
    """Write a child command's typed arguments to `path` as JSON."""
    payload = {"command": command_of(args), "args": asdict(args)}
    path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return path


def read_args(path: Path) -> tuple[str, Any]:
    """The command and its typed arguments from a file `write_args` wrote; a field that is not
    (or no longer) the dataclass's fails here, before the command starts."""
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    cls = CHILD_COMMANDS[payload["command"]]
    values = {name: _normalised(value) for name, value in payload["args"].items()}
    return payload["command"], cls(**values)
