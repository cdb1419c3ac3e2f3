"""Negative preference optimisation (Zhang et al., 2024): a bounded, reference-relative GA."""

from __future__ import annotations

from jaxtyping import Float
from torch import Tensor

from unlearn.methods.batch import Forward, TokenBatch
from unlearn.methods.losses import npo_loss, sequence_logprob
from unlearn.methods.reference import CachedReference
from unlearn.methods.settings import LossSettings


def npo_term(
    logits: Float[Tensor, "batch pos vocab"],
    batch: TokenBatch,
    reference: Forward | CachedReference | None,
    config: LossSettings,
) -> Float[Tensor, ""]:
    """NPO on the forget answers, against the frozen model unlearning started from."""
    if reference is None:
        raise ValueError("NPO needs the reference model")
    ref_logprob = CachedReference.of(reference).sequence_logprob(batch)
    logprob = sequence_logprob(logits, batch.labels)
    return npo_loss(logprob, ref_logprob, config.beta, batch.n_sequences)
