"""Gradient ascent: push the forget answers' likelihood down, L = -CE_f."""

from __future__ import annotations

from jaxtyping import Float
from torch import Tensor

from unlearn.methods.batch import Forward, TokenBatch
from unlearn.methods.losses import answer_ce
from unlearn.methods.settings import LossSettings


def ga_term(
    logits: Float[Tensor, "batch pos vocab"],
    batch: TokenBatch,
    reference: Forward | None,
    config: LossSettings,
) -> Float[Tensor, ""]:
    """-CE on the forget answers (token mean); unbounded below, so GA eventually diverges."""
    return -answer_ce(logits, batch.labels, batch.n_tokens)
