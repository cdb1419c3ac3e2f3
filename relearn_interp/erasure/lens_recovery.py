"""Lens recovery: is a fact the checkpoint no longer states still readable inside it?

The checkpoint's residual stream at the knowledge slot, after every block, is decoded through a
head (final norm and unembedding) and the gold token's rank is recorded, with the best rank of its
decoys (the relation's other objects' tokens: the chance control). Two heads are read:
- `base`: the model before unlearning's head — a fixed decoder, so a change confined to the
  checkpoint's own output head (as full fine-tuning can make to the gold token's unembedding row)
  reads as suppression at the output, not erasure. This is the headline lens;
- `own`: the checkpoint's own head, as Patil et al. (arXiv 2309.17410) read it.

A fact is lens-recovered (the issue's definition) when it is not recalled and its gold token ranks
in the top k at some intermediate block (every block but the last). The chance-controlled hit also
asks that fewer than half of its decoys reach the top k at some intermediate block: a digit or a
common word that ranks high for any subject does not count as the fact.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor
from transformers import PreTrainedModel

from relearn_interp.erasure.model_access import decode_block_output
from relearn_interp.erasure.targets import FactTarget

HEADS = ("base", "own")
ROWS_PER_DECODE = 64
DECOY_SHARE = 0.5  # a hit needs fewer than half of the decoys in the top k too


@dataclass
class LensRanks:
    """Through one head: the gold token's rank per block (1 = top), and for each decoy whether it
    reaches the top k at some intermediate block (padding decoys masked out)."""

    gold: Int[Tensor, "n layer"]
    decoy_in_top_k: Bool[Tensor, "n decoy"]
    decoy_valid: Bool[Tensor, "n decoy"]


@torch.no_grad()
def lens_ranks(
    head: PreTrainedModel,
    slot_resid: Float[Tensor, "n layer d_model"],
    targets: list[FactTarget],
    top_k: int,
) -> LensRanks:
    """Decode every block's residual at each fact's slot through `head`; rank gold and decoys.

    A token ranks in the top k exactly when its logit is at least the k-th largest one, so the
    decoys need one top-k per row instead of a full count each.
    """
    n, n_layers, _ = slot_resid.shape
    device = next(head.parameters()).device
    width = max((len(t.decoy_ids) for t in targets), default=0)
    decoys = torch.zeros((n, max(width, 1)), dtype=torch.long)
    valid = torch.zeros((n, max(width, 1)), dtype=torch.bool)
    for row, target in enumerate(targets):
        decoys[row, : len(target.decoy_ids)] = torch.tensor(target.decoy_ids, dtype=torch.long)
        valid[row, : len(target.decoy_ids)] = True
    gold = torch.tensor([t.gold_id for t in targets]).repeat_interleave(n_layers)
    flat_decoys = decoys.repeat_interleave(n_layers, 0)
    flat = slot_resid.reshape(n * n_layers, -1)
    gold_ranks, decoy_hits = [], []
    for begin in range(0, flat.shape[0], ROWS_PER_DECODE):
        rows = slice(begin, begin + ROWS_PER_DECODE)
        logits = decode_block_output(head, flat[rows].to(device)).float()
        gold_logit = logits.gather(1, gold[rows, None].to(device))
        gold_ranks.append(((logits > gold_logit).sum(1) + 1).cpu())
        kth = logits.topk(min(top_k, logits.shape[1]), dim=1).values[:, -1:]
        decoy_hits.append((logits.gather(1, flat_decoys[rows].to(device)) >= kth).cpu())
    ranks = torch.cat(gold_ranks).view(n, n_layers)
    hits = torch.cat(decoy_hits).view(n, n_layers, -1)
    inner = hits[:, :-1] if n_layers > 1 else hits
    return LensRanks(ranks, inner.any(dim=1) & valid, valid)


def fact_lens(ranks: LensRanks, index: int, top_k: int, forgotten: bool) -> dict:
    """One fact's lens numbers through one head, and its two recovery flags."""
    gold = ranks.gold[index].tolist()
    inner = gold[:-1]
    best = min(inner) if inner else None
    n_decoys = int(ranks.decoy_valid[index].sum())
    decoy_share = float(ranks.decoy_in_top_k[index].sum()) / n_decoys if n_decoys else None
    in_top_k = best is not None and best <= top_k
    return {
        "gold_rank": gold,
        "best_inner_rank": best,
        "best_inner_layer": inner.index(best) if inner else None,
        "decoy_top_k_share": decoy_share,
        "recovered": forgotten and in_top_k,
        "hit": forgotten and in_top_k and (decoy_share is None or decoy_share < DECOY_SHARE),
    }
