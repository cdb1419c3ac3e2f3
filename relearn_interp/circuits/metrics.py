"""The metric a circuit explains, one value per prompt pair, read at the pair's target positions.

- `logit_diff` / `prob_diff`: gold − corrupted-gold logit (probability) at the last position. Needs
  pairs that know the corrupted prompt's answer (fact triples, or a CSV).
- `answer_logprob`: mean log-probability of the clean answer's target tokens, teacher-forced. Needs
  no corrupted gold answer: the pairs of entities without fact triples (e.g. TOFU) use it.
- `kl`: KL(clean run ‖ this run), averaged over the target positions; 0 on the clean run, so its
  gradient there is 0 too and plain EAP cannot use it (EAP-IG can).

`auto` picks `logit_diff` when every pair has a corrupted gold token, else `answer_logprob`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor

from unlearn.errors import UserError

if TYPE_CHECKING:
    from relearn_interp.circuits.pairs import Batch, Pair

METRICS = ("logit_diff", "prob_diff", "answer_logprob", "kl")
NEEDS_CORRUPTED_GOLD = ("logit_diff", "prob_diff")
AUTO = "auto"
DESCRIPTIONS = {
    "logit_diff": "gold − corrupted-gold logit at the last position",
    "prob_diff": "gold − corrupted-gold probability at the last position",
    "answer_logprob": "mean log-probability of the clean answer's target tokens (teacher-forced); "
    "needs no corrupted gold answer",
    "kl": "KL(clean run ‖ this run) at the target positions; needs no corrupted gold answer",
}


def resolve_metric(name: str, pairs: Sequence[Pair]) -> str:
    """The metric to use: `auto` becomes logit_diff when every pair has a corrupted gold token."""
    has_gold = all(p.corrupted_gold is not None for p in pairs)
    if name == AUTO:
        return "logit_diff" if has_gold else "answer_logprob"
    if name not in METRICS:
        raise UserError(f"unknown metric {name!r}; valid: {AUTO}, {', '.join(METRICS)}")
    if name in NEEDS_CORRUPTED_GOLD and not has_gold:
        raise UserError(
            f"the {name} metric needs the corrupted prompt's gold answer, which these pairs lack "
            "(no fact triples); use --metric answer_logprob or kl"
        )
    return name


def last_logits(
    logits: Float[Tensor, "batch pos vocab"], batch: Batch
) -> Float[Tensor, "batch vocab"]:
    """Logits at each prompt's last real position."""
    return logits[torch.arange(batch.size, device=logits.device), batch.last].float()


def target_logprobs(
    logits: Float[Tensor, "batch pos vocab"], batch: Batch
) -> Float[Tensor, "batch target vocab"]:
    """Log-probabilities at each pair's target positions (padded targets repeat the last one)."""
    rows = torch.arange(batch.size, device=logits.device)[:, None]
    return logits[rows, batch.targets].float().log_softmax(-1)


def _masked_mean(values: Float[Tensor, "batch target"], batch: Batch) -> Float[Tensor, " batch"]:
    mask = batch.target_mask.to(values.dtype)
    return (values * mask).sum(-1) / mask.sum(-1)


def metric_per_pair(
    name: str,
    logits: Float[Tensor, "batch pos vocab"],
    batch: Batch,
    clean_logprobs: Float[Tensor, "batch target vocab"] | None = None,
) -> Float[Tensor, " batch"]:
    """The metric of each pair of `batch` on this run's logits."""
    if name in NEEDS_CORRUPTED_GOLD:
        final = last_logits(logits, batch)
        rows = torch.arange(batch.size, device=final.device)
        if name == "prob_diff":
            final = final.softmax(-1)
        return final[rows, batch.gold] - final[rows, batch.corrupted_gold]
    if name == "answer_logprob":
        logprobs = target_logprobs(logits, batch)
        picked = logprobs.gather(-1, batch.target_ids[..., None]).squeeze(-1)
        return _masked_mean(picked, batch)
    if name == "kl":
        if clean_logprobs is None:
            raise ValueError("the kl metric needs the clean log-probabilities")
        here = target_logprobs(logits, batch)
        kl = F.kl_div(here, clean_logprobs, log_target=True, reduction="none").sum(-1)
        return _masked_mean(kl, batch)
    raise UserError(f"unknown metric {name!r}; valid: {', '.join(METRICS)}")


def clean_reference(
    name: str, logits: Float[Tensor, "batch pos vocab"], batch: Batch
) -> Float[Tensor, "batch target vocab"] | None:
    """What the metric compares against on later runs: the clean log-probabilities for kl."""
    return target_logprobs(logits, batch).detach() if name == "kl" else None
