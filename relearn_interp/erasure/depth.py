"""Patching curves and the depth score of one checkpoint against the model before unlearning.

Per fact, with lp the gold token's log-probability at the knowledge slot and gap = lp(base) −
lp(checkpoint):
- restore(l) = (lp(checkpoint ← base at block l) − lp(checkpoint)) / gap: the share of the gap
  that writing the base's residual stream into the checkpoint after block l gives back;
- transfer(l) = (lp(base) − lp(base ← checkpoint at block l)) / gap: the share of the gap that
  the checkpoint's residual stream after block l already carries into the base.
Both are clipped to [0, 1] and defined only where gap ≥ `min_gap` nats (a fact whose gold token
lost less has no forgetting to locate). The depth score of a fact is the mean of transfer(l) over
the blocks: 0 when no block's residual stream carries the forgetting (it is made in the output
head: suppression at the output), 1 when it is there from the first block on. See docs/erasure.md
for how this differs from the Unlearning Depth Score (arXiv 2605.24614).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Float
from torch import Tensor
from transformers import PreTrainedModel

from relearn_interp.erasure.model_access import autocast
from relearn_interp.erasure.patching import (
    Prefix,
    chunks,
    patch_positions,
    run_patched,
    run_prefix,
)
from relearn_interp.erasure.targets import FactTarget
from unlearn.io import json_number_or_none

MIN_GAP = 1.0  # nats: the gold token's probability fell at least e-fold


@dataclass
class Side:
    """One model's prefixes, clean gold log-probabilities and clean block outputs for a variant;
    block outputs are kept at the patch positions, then the slot (last)."""

    prefixes: list[Prefix]  # one per chunk of `chunk_size` facts
    clean: Float[Tensor, " n"]
    captured: list[Float[Tensor, "layer m d_model"]]
    chunk_size: int


@dataclass
class Curves:
    """Raw gold log-probabilities of both directions for one variant (NaN rows: not patched)."""

    base: Float[Tensor, " n"]
    checkpoint: Float[Tensor, " n"]
    restored: Float[Tensor, "n layer"]  # checkpoint ← base at block l
    transferred: Float[Tensor, "n layer"]  # base ← checkpoint at block l
    patched: list[bool]  # False where the variant has no position to patch (no subject found)


def _starts(targets: list[FactTarget], variant: str) -> tuple[list[list[int]], list[int]]:
    positions = [patch_positions(t, variant) for t in targets]
    return positions, [min(p) if p else t.slot for p, t in zip(positions, targets, strict=True)]


def clean_side(
    model: PreTrainedModel,
    targets: list[FactTarget],
    variant: str,
    pad_id: int,
    chunk_size: int = 8,
    mixed_precision: str = "no",
) -> Side:
    """The base model's side, computed once and reused against every checkpoint."""
    prefixes, clean, captured = [], [], []
    with autocast(next(model.parameters()).device, mixed_precision):
        for chunk in chunks(targets, chunk_size):
            positions, starts = _starts(chunk, variant)
            prefix = run_prefix(model, chunk, starts, pad_id)
            capture = [p + [t.slot] for p, t in zip(positions, chunk, strict=True)]
            run = run_patched(model, prefix, None, positions, capture, pad_id)
            prefixes.append(prefix)
            clean.append(run.gold_logprob[:, 0])
            captured += run.captured
    return Side(prefixes, torch.cat(clean), captured, chunk_size)


def patch_both_ways(
    base: PreTrainedModel,
    base_side: Side,
    checkpoint: PreTrainedModel,
    targets: list[FactTarget],
    variant: str,
    pad_id: int,
    mixed_precision: str = "no",
) -> tuple[Curves, Side]:
    """Both patching directions for one variant (chunked as `base_side`), and the checkpoint's
    own clean side."""
    chunk_size = base_side.chunk_size
    n_layers = base.config.num_hidden_layers
    restored, transferred, clean, captured, prefixes = [], [], [], [], []
    begin = 0
    device = next(checkpoint.parameters()).device
    # one autocast region for every run: weights that require grad are cast to bf16 only once
    with autocast(device, mixed_precision):
        for chunk, base_prefix in zip(chunks(targets, chunk_size), base_side.prefixes, strict=True):
            positions, starts = _starts(chunk, variant)
            capture = [p + [t.slot] for p, t in zip(positions, chunk, strict=True)]
            own = base_side.captured[begin : begin + len(chunk)]
            base_acts = [a[:, : len(p)] for a, p in zip(own, positions, strict=True)]
            prefix = run_prefix(checkpoint, chunk, starts, pad_id)
            forward = run_patched(checkpoint, prefix, base_acts, positions, capture, pad_id)
            ckpt_acts = [a[:, : len(p)] for a, p in zip(forward.captured, positions, strict=True)]
            no_capture = [[] for _ in chunk]
            reverse = run_patched(base, base_prefix, ckpt_acts, positions, no_capture, pad_id)
            prefixes.append(prefix)
            clean.append(forward.gold_logprob[:, 0])
            restored.append(forward.gold_logprob[:, 1 : 1 + n_layers])
            transferred.append(reverse.gold_logprob[:, 1 : 1 + n_layers])
            captured += forward.captured
            begin += len(chunk)
    patched = [bool(patch_positions(t, variant)) for t in targets]
    curves = Curves(
        base_side.clean, torch.cat(clean), torch.cat(restored), torch.cat(transferred), patched
    )
    return curves, Side(prefixes, torch.cat(clean), captured, chunk_size)


def _share(numerator: float, gap: float) -> float:
    return min(1.0, max(0.0, numerator / gap))


def fact_curves(curves: Curves, index: int, min_gap: float = MIN_GAP) -> dict:
    """One fact's JSON: raw log-probabilities, and (where the gap is large enough) its shares."""
    base, ckpt = float(curves.base[index]), float(curves.checkpoint[index])
    gap = base - ckpt
    row: dict = {
        "base_logprob": json_number_or_none(base),
        "checkpoint_logprob": json_number_or_none(ckpt),
        "gap": json_number_or_none(gap),
        "patched": curves.patched[index],
        "restored_logprob": [json_number_or_none(v) for v in curves.restored[index].tolist()],
        "transferred_logprob": [json_number_or_none(v) for v in curves.transferred[index].tolist()],
        "restore_share": None,
        "transfer_share": None,
        "depth": None,
    }
    if curves.patched[index] and gap >= min_gap:
        row["restore_share"] = [
            json_number_or_none(_share(v - ckpt, gap)) for v in curves.restored[index].tolist()
        ]
        row["transfer_share"] = [
            json_number_or_none(_share(base - v, gap)) for v in curves.transferred[index].tolist()
        ]
        row["depth"] = json_number_or_none(sum(row["transfer_share"]) / len(row["transfer_share"]))
    return row
