"""Loss terms shared by the unlearning methods, all restricted to answer tokens.

Logits at position t predict token t+1, so labels are shifted left by one (the same
convention as Hugging Face's causal-LM loss). Each term takes an optional normaliser
(`n_tokens`, `n_sequences`): the training loop passes each process's share of the *global*
micro-batch count, so that the gradients averaged by data parallelism equal exactly the
single-process loss. Without it, the local count is used.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor

from unlearn.prompting import IGNORE_INDEX


def at_least_fp32(logits: Float[Tensor, "*shape"]) -> Float[Tensor, "*shape"]:
    """Half-precision logits are upcast before softmax; float64 stays float64."""
    return logits.to(torch.promote_types(logits.dtype, torch.float32))


def next_token_labels(labels: Int[Tensor, "batch pos"]) -> Int[Tensor, "batch pos"]:
    """The label each position predicts (its next token), IGNORE_INDEX past the end."""
    return F.pad(labels[:, 1:], (0, 1), value=IGNORE_INDEX)


def answer_token_nll(
    logits: Float[Tensor, "batch pos vocab"], labels: Int[Tensor, "batch pos"]
) -> Float[Tensor, "batch pos"]:
    """Negative log-likelihood of each next answer token; 0 where there is none."""
    targets = next_token_labels(labels)
    nll = F.cross_entropy(
        at_least_fp32(logits).flatten(0, 1),
        targets.flatten(),
        ignore_index=IGNORE_INDEX,
        reduction="none",
    )
    return nll.view(targets.shape)


def count_answer_tokens(labels: Int[Tensor, "batch pos"]) -> int:
    """Answer tokens that a loss is averaged over (those after the first position)."""
    return int((labels[:, 1:] != IGNORE_INDEX).sum())


def answer_ce(
    logits: Float[Tensor, "batch pos vocab"],
    labels: Int[Tensor, "batch pos"],
    n_tokens: float | None = None,
) -> Float[Tensor, ""]:
    """Token-mean cross-entropy over answer tokens (GA negates it, GDR/ReLearn minimise it)."""
    denominator = n_tokens if n_tokens is not None else max(1, count_answer_tokens(labels))
    return answer_token_nll(logits, labels).sum() / denominator


def sequence_logprob(
    logits: Float[Tensor, "batch pos vocab"], labels: Int[Tensor, "batch pos"]
) -> Float[Tensor, " batch"]:
    """log p(answer | prompt): answer-token log-probabilities summed per sequence."""
    return -answer_token_nll(logits, labels).sum(dim=1)


def npo_loss(
    logprob: Float[Tensor, " batch"],
    ref_logprob: Float[Tensor, " batch"],
    beta: float,
    n_sequences: float | None = None,
) -> Float[Tensor, ""]:
    """NPO: -(2/β) · mean log σ(-β · (log p_θ(y|x) - log p_ref(y|x)))."""
    denominator = n_sequences if n_sequences is not None else logprob.shape[0]
    return -(2.0 / beta) * F.logsigmoid(-beta * (logprob - ref_logprob)).sum() / denominator


def kl_to_reference(
    logits: Float[Tensor, "batch pos vocab"],
    ref_logits: Float[Tensor, "batch pos vocab"],
    labels: Int[Tensor, "batch pos"],
    all_positions: bool = False,
    n_tokens: float | None = None,
) -> Float[Tensor, ""]:
    """KL(p_ref ‖ p_θ) of the next-token distributions, averaged over positions.

    By default only positions that predict an answer token count. `all_positions` reproduces
    the TOFU/ReLearn reference code: `F.kl_div(..., reduction="batchmean")` on logits flattened
    over batch × positions, so prompt, padding and the last position are averaged in too.
    """
    if all_positions:
        vocab = logits.shape[-1]
        return F.kl_div(
            F.log_softmax(at_least_fp32(logits), dim=-1).view(-1, vocab),
            F.log_softmax(at_least_fp32(ref_logits), dim=-1).view(-1, vocab),
            reduction="batchmean",
            log_target=True,
        )
    return kl_from_reference_logprobs(logits, answer_logprobs(ref_logits, labels), labels, n_tokens)


def answer_logprobs(
    logits: Float[Tensor, "batch pos vocab"], labels: Int[Tensor, "batch pos"]
) -> Float[Tensor, "answer_pos vocab"]:
    """Next-token log-probabilities at the positions that predict an answer token (row-major)."""
    predicts_answer = next_token_labels(labels) != IGNORE_INDEX
    return F.log_softmax(at_least_fp32(logits[predicts_answer]), dim=-1)


def kl_from_reference_logprobs(
    logits: Float[Tensor, "batch pos vocab"],
    ref_logp: Float[Tensor, "answer_pos vocab"],
    labels: Int[Tensor, "batch pos"],
    n_tokens: float | None = None,
) -> Float[Tensor, ""]:
    """KL(p_ref ‖ p_θ) at the answer positions, given the reference's `answer_logprobs`."""
    logp = answer_logprobs(logits, labels)
    per_position = (ref_logp.exp() * (ref_logp - logp)).sum(dim=-1)
    denominator = n_tokens if n_tokens is not None else max(1, per_position.shape[0])
    return per_position.sum() / denominator
