"""ReLearn (Xu et al., 2025): unlearn by learning — fine-tune on augmented, non-sensitive answers.

The forget-side term is plain cross-entropy on the ReLearn data (augmented forget questions with
vague answers, sentence completions and general-knowledge rows, made by `unlearn augment`);
the retain terms (CE_r and KL_r) keep the rest of the model's knowledge. The same cross-entropy
term is the vanilla fine-tune's objective.
"""

from __future__ import annotations

from jaxtyping import Float
from torch import Tensor

from unlearn.methods.batch import Forward, TokenBatch
from unlearn.methods.losses import answer_ce
from unlearn.methods.settings import LossSettings


def learn_term(
    logits: Float[Tensor, "batch pos vocab"],
    batch: TokenBatch,
    reference: Forward | None,
    config: LossSettings,
) -> Float[Tensor, ""]:
    """CE on the target answers (token mean): ReLearn's term on its data, SFT's on the records."""
    return answer_ce(logits, batch.labels, batch.n_tokens)
