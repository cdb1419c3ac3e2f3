"""Activation patching between the model before unlearning and an unlearned checkpoint.

For each block l, the block's output (the residual stream `blocks.{l}.hook_resid_post`) of a
*source* model is written into a *target* model at the patched positions, and the target's
log-probability of the gold token is read at the knowledge slot. Both directions are run:
base → checkpoint ("restore": does the checkpoint's computation after l still produce the fact
from the base's state?) and checkpoint → base ("transfer": does the checkpoint's state at l already
carry the forgetting?). `relearn_interp.erasure.depth` turns the log-probabilities into curves.

Cost: positions before the first patched one are the same in the clean and patched runs, so the
target's key/value cache of that prefix is computed once, and every patched run (one per block,
plus one clean run, batched over facts) recomputes only the suffix from the first patched
position to the slot: with slot patching that is one token per (fact, layer). Callers wrap whole
sequences of runs in one autocast region (`relearn_interp.erasure.depth`), so that each weight is
cast to bfloat16 once, not once per forward pass.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor
from transformers import PreTrainedModel

from relearn_interp.erasure.model_access import block_hooks, cache_kwarg, output_cache
from relearn_interp.erasure.targets import FactTarget
from unlearn.errors import UserError

VARIANTS = ("slot", "subject", "all")


def patch_positions(target: FactTarget, variant: str) -> list[int]:
    """Where a variant patches: the knowledge slot, the subject's prompt tokens, or every position."""
    if variant == "slot":
        return [target.slot]
    if variant == "subject":
        return list(target.subject_positions)
    if variant == "all":
        return list(range(target.slot + 1))
    raise UserError(f"unknown patching variant {variant!r}; valid: {', '.join(VARIANTS)}")


@dataclass
class Prefix:
    """One model's key/value cache of a chunk's unchanged prefixes (left-padded), reused by every
    patched run of that model on the chunk."""

    targets: list[FactTarget]
    starts: list[int]  # first recomputed position of each fact (the prefix length)
    cache: object | None  # None when every prefix is empty
    mask: Int[Tensor, "n prefix"]


@dataclass
class PatchRun:
    """Gold log-probabilities of one target model on a chunk, and its clean block outputs."""

    gold_logprob: Float[Tensor, "n run"]  # column 0: clean; column 1 + l: patched at block l
    captured: list[Float[Tensor, "layer m d_model"]]  # per fact, at its capture positions


@torch.no_grad()
def run_prefix(
    model: PreTrainedModel,
    targets: list[FactTarget],
    starts: list[int],
    pad_id: int,
) -> Prefix:
    """The target model's cache of each fact's positions before `starts` (left-padded)."""
    device = next(model.parameters()).device
    width = max(starts)
    tokens = torch.full((len(targets), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(targets), width), dtype=torch.long)
    for row, (target, start) in enumerate(zip(targets, starts, strict=True)):
        if start:
            tokens[row, width - start :] = torch.tensor(target.input_ids[:start])
            mask[row, width - start :] = 1
    if width == 0:
        return Prefix(targets, starts, None, mask)
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    output = model.base_model(
        input_ids=tokens.to(device),
        attention_mask=mask.to(device),
        position_ids=positions.to(device),
        use_cache=True,
    )
    return Prefix(targets, starts, output_cache(output), mask)


def _block_mask(
    prefix_mask: Int[Tensor, "n prefix"], lengths: list[int], n_blocks: int, width: int
) -> Bool[Tensor, "n query key"]:
    """Which keys each suffix query sees: the fact's real prefix tokens, and the earlier real
    tokens of its own block (every block is one run of the suffix; a pad query sees itself)."""
    n = len(lengths)
    query = torch.arange(n_blocks * width)
    block, offset = query // width, query % width
    real = offset[None, :] < torch.tensor(lengths)[:, None]  # [n, key]
    same = (block[:, None] == block[None, :]) & (offset[None, :] <= offset[:, None])
    suffix = (same[None] & real[:, None, :]) | torch.eye(len(query), dtype=torch.bool)[None]
    seen = prefix_mask.bool()[:, None, :].expand(n, len(query), prefix_mask.shape[1])
    return torch.cat([seen, suffix], dim=2)


def _patch_index(
    prefix: Prefix,
    patches: list[Float[Tensor, "layer m d_model"]],
    positions: list[list[int]],
    width: int,
    layer: int,
) -> tuple[Int[Tensor, " k"], Int[Tensor, " k"], Float[Tensor, "k d_model"]] | None:
    """Facts, suffix columns (in block 1 + layer) and source values that block `layer`'s patch writes."""
    facts, cols, values = [], [], []
    for fact, (start, fact_positions) in enumerate(zip(prefix.starts, positions, strict=True)):
        for k, position in enumerate(fact_positions):
            facts.append(fact)
            cols.append((1 + layer) * width + position - start)
            values.append(patches[fact][layer, k])
    if not facts:
        return None
    return torch.tensor(facts), torch.tensor(cols), torch.stack(values)


@torch.no_grad()
def run_patched(
    model: PreTrainedModel,
    prefix: Prefix,
    patches: list[Float[Tensor, "layer m d_model"]] | None,
    patch_at: list[list[int]],
    capture_at: list[list[int]],
    pad_id: int,
) -> PatchRun:
    """A clean run of each fact's suffix, plus (with `patches`) one run per block with the
    source's block output written at `patch_at`; gold log-probabilities at the slot, and the
    clean run's block outputs at `capture_at` (positions must not precede the fact's start).

    All runs of a fact are blocks of one sequence after its cached prefix, with a block-diagonal
    mask and the same position ids: they share the prefix's keys and values instead of copying
    them once per block.
    """
    device = next(model.parameters()).device
    n_layers = model.config.num_hidden_layers
    n_blocks = 1 + (n_layers if patches is not None else 0)
    targets, starts = prefix.targets, prefix.starts
    suffixes = [t.input_ids[s:] for t, s in zip(targets, starts, strict=True)]
    lengths = [len(suffix) for suffix in suffixes]
    width = max(lengths)
    tokens = torch.full((len(targets), width), pad_id, dtype=torch.long)
    for row, suffix in enumerate(suffixes):
        tokens[row, : len(suffix)] = torch.tensor(suffix)
    positions = torch.tensor(starts)[:, None] + torch.arange(width)[None, :]
    allowed = _block_mask(prefix.mask, lengths, n_blocks, width)
    mask = torch.zeros(allowed.shape, dtype=torch.float32)
    mask.masked_fill_(~allowed, torch.finfo(torch.float32).min)
    kwargs = {}
    if prefix.cache is not None:
        kwargs[cache_kwarg(model)] = copy.deepcopy(prefix.cache)
    capture_cols = [[p - s for p in fact] for fact, s in zip(capture_at, starts, strict=True)]
    captured: list[list[Tensor]] = [[] for _ in targets]
    index = {
        layer: _patch_index(prefix, patches, patch_at, width, layer)
        for layer in range(n_layers)
        if patches is not None
    }

    def hook_for(layer: int):
        def hook(hidden: Tensor) -> Tensor | None:
            for fact, cols in enumerate(capture_cols):
                captured[fact].append(hidden[fact, cols].detach().float().cpu())
            if index.get(layer) is None:
                return None
            facts, cols, values = index[layer]
            hidden = hidden.clone()
            hidden[facts.to(device), cols.to(device)] = values.to(device, hidden.dtype)
            return hidden

        return hook

    readout = torch.tensor([t.slot - s for t, s in zip(targets, starts, strict=True)])
    cols = readout[:, None] + torch.arange(n_blocks)[None, :] * width  # [n, block]
    keep = torch.unique(cols)
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        kwargs["logits_to_keep"] = keep.to(device)
        cols = torch.searchsorted(keep, cols)
    with block_hooks(model, {layer: hook_for(layer) for layer in range(n_layers)}):
        # the model's own forward: its output head applies any final-logit transform (soft cap...)
        logits = model(
            input_ids=tokens.repeat(1, n_blocks).to(device),
            attention_mask=mask[:, None].to(device),
            position_ids=positions.repeat(1, n_blocks).to(device),
            use_cache=prefix.cache is not None,
            **kwargs,
        ).logits
    rows = torch.arange(len(targets))[:, None].expand_as(cols)
    log_probs = (
        logits[rows.to(device), cols.to(device)].float().log_softmax(-1)
    )  # [n, block, vocab]
    gold = torch.tensor([t.gold_id for t in targets])[:, None, None].expand(-1, n_blocks, 1)
    gold_logprob = log_probs.gather(2, gold.to(device))[..., 0].cpu()
    return PatchRun(gold_logprob, [torch.stack(layers) for layers in captured])


def chunks(items: list, size: int) -> list[list]:
    if size < 1:
        raise UserError(f"facts per patching chunk must be at least 1, got {size}")
    return [items[i : i + size] for i in range(0, len(items), size)]
