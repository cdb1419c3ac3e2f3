"""The reference model's outputs that the loss terms read, cached per example.

The reference is frozen, so what a term reads from it for one example never changes during a
run: NPO's log p_ref(y|x) per forget item, and KL_r's next-token log-probabilities at a retain
item's answer positions. `CachedReference` runs the reference on a batch only while it holds
some of the batch's rows uncached (the first epoch, under the loop's autocast, in the loop's
batches) and memoises each row by its example index; later batches read the cache. Only the
answer positions are kept, so memory is rows × answer tokens × vocab floats. KL over all
positions (`--kl-all-positions`) would need every position's distribution: it runs the
reference live each step instead.
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

from unlearn.methods.batch import Forward, TokenBatch
from unlearn.methods.losses import answer_logprobs, next_token_labels, sequence_logprob
from unlearn.prompting import IGNORE_INDEX


class CachedReference:
    """A reference forward with its per-example outputs memoised (batches with `indices`)."""

    def __init__(self, forward: Forward):
        self.forward = forward
        self._logprob: dict[int, Tensor] = {}
        self._answer_logp: dict[int, Tensor] = {}

    @classmethod
    def of(cls, reference: Forward | CachedReference) -> CachedReference:
        """`reference` itself if already cached, else a cache around the forward."""
        return reference if isinstance(reference, CachedReference) else cls(reference)

    @torch.no_grad()
    def logits(self, batch: TokenBatch) -> Float[Tensor, "batch pos vocab"]:
        """All positions' logits, live (not cached)."""
        return self.forward(batch)

    def _missing(self, cache: dict[int, Tensor], batch: TokenBatch) -> bool:
        return batch.indices is None or any(i not in cache for i in batch.indices)

    @torch.no_grad()
    def sequence_logprob(self, batch: TokenBatch) -> Float[Tensor, " batch"]:
        """log p_ref(answer | prompt) per row."""
        if not self._missing(self._logprob, batch):
            return torch.stack([self._logprob[i] for i in batch.indices])
        values = sequence_logprob(self.forward(batch), batch.labels)
        for index, value in zip(batch.indices or (), values, strict=False):
            self._logprob.setdefault(index, value.clone())
        return values

    @torch.no_grad()
    def answer_logprobs(self, batch: TokenBatch) -> Float[Tensor, "answer_pos vocab"]:
        """The reference's next-token log-probabilities at the answer positions (row-major)."""
        if not self._missing(self._answer_logp, batch):
            return torch.cat([self._answer_logp[i] for i in batch.indices])
        values = answer_logprobs(self.forward(batch), batch.labels)
        if batch.indices is not None:
            counts = (next_token_labels(batch.labels) != IGNORE_INDEX).sum(dim=1).tolist()
            for index, rows in zip(batch.indices, values.split(counts), strict=True):
                self._answer_logp.setdefault(index, rows.clone())
        return values
