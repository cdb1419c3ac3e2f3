"""Perplexity of an answer given its question under a scorer model (the LS's PPL term).

The prompt is built with the scorer's chat template (as in training), the answer tokens follow
without EOS, and the loss is averaged over answer tokens only. An empty answer has no tokens, so
its PPL is NaN: the caller excludes and counts it, as the reference code does.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from unlearn.prompting import IGNORE_INDEX, Example, answer_ids, collate, prompt_ids

MAX_LOG_PPL = 700.0  # exp() overflows a float past ~709


def mean_answer_nll(
    logits: Float[Tensor, "batch pos vocab"], labels: Int[Tensor, "batch pos"]
) -> Float[Tensor, " batch"]:
    """Mean next-token negative log-likelihood over labelled positions of each row (NaN if none)."""
    shifted_logits = logits[:, :-1].float()
    targets = labels[:, 1:]
    mask = targets != IGNORE_INDEX
    nll = F.cross_entropy(
        shifted_logits.reshape(-1, shifted_logits.shape[-1]),
        targets.clamp(min=0).reshape(-1),
        reduction="none",
    ).view(targets.shape)
    return (nll * mask).sum(dim=1) / mask.sum(dim=1)


def context_length(model: PreTrainedModel) -> int:
    return int(getattr(model.config, "max_position_embeddings", 2048) or 2048)


@torch.no_grad()
def answer_perplexities(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    questions: list[str],
    answers: list[str],
    batch_size: int = 16,
    progress: bool = True,
) -> list[float]:
    """PPL of each answer conditioned on its question; NaN for an empty answer."""
    max_length = context_length(model)
    device = next(model.parameters()).device
    pad_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    examples: dict[int, Example] = {}
    for index, (question, answer) in enumerate(zip(questions, answers, strict=True)):
        target = answer_ids(tokenizer, answer, eos=False) if answer.strip() else []
        if target:
            prompt = prompt_ids(tokenizer, question)
            examples[index] = Example(
                (prompt + target)[:max_length], ([IGNORE_INDEX] * len(prompt) + target)[:max_length]
            )
    ppls = [math.nan] * len(questions)
    order = list(examples)
    for start in tqdm(
        range(0, len(order), batch_size), desc="perplexity", disable=not progress, leave=False
    ):
        chunk = order[start : start + batch_size]
        batch = {k: v.to(device) for k, v in collate([examples[i] for i in chunk], pad_id).items()}
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        for index, nll in zip(
            chunk, mean_answer_nll(logits, batch["labels"]).tolist(), strict=True
        ):
            ppls[index] = math.nan if math.isnan(nll) else math.exp(min(nll, MAX_LOG_PPL))
    return ppls
