"""Token-distribution shift ("knowledge distribution"): how unlearning moved each next-token distribution.

At every gold answer position (teacher forcing) the next-token distribution of each unlearned model
q is compared with the base (vanilla) model's p: KL both ways, the Jensen-Shannon divergence (the
real one, with the mixture m = (p + q) / 2; nats, at most ln 2), entropy change, top-k overlap and
the rank under q of p's top-1 token. The mass that moved (the total variation distance, which is
both what the losing tokens lost and what the gaining tokens gained) is split by where it went,
each gaining token counted once, in this order of precedence:

- `vanilla_top1`: p's top-1 token itself;
- `vanilla_candidates`: p's next candidates (its top-k minus the top-1);
- `eos`: end of sequence;
- `refusal`: first tokens of refusal phrases ("I", "Sorry", "cannot", ...; see REFUSAL_WORDS);
- `malformed`: byte fragments, special tokens, and tokens with no letter or digit (punctuation, whitespace);
- `unrelated`: everything else.

A probability seesaw (GA, NPO) pushes mass from the gold token into `unrelated`/`malformed`;
ReLearn's answers move it to plausible candidates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Bool, Float
from torch import Tensor
from tqdm.auto import tqdm
from transformer_lens.model_bridge import TransformerBridge
from transformers import PreTrainedTokenizerBase

from relearn_interp.load import require_same_tokenizer
from relearn_interp.prompts import (
    AnalysisPrompt,
    PromptBatch,
    answer_logits_kwargs,
    build_prompts,
    iter_batches,
    require_fit,
)
from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.io import hash_json, json_number, versions
from unlearn.precision import model_precision

SHIFT_BACKEND = "next-token distributions at gold answer positions, teacher forced (TransformerLens TransformerBridge)"
REFUSAL_WORDS = (
    "I",
    "Sorry",
    "sorry",
    "Unfortunately",
    "cannot",
    "can't",
    "unable",
    "not",
    "No",
    "no",
    "don't",
    "unknown",
    "apologize",
    "apologies",
)
DESTINATIONS = ("vanilla_top1", "vanilla_candidates", "eos", "refusal", "malformed", "unrelated")
RANK_BUCKETS = (
    (1, 1, "1"),
    (2, 10, "2-10"),
    (11, 100, "11-100"),
    (101, 1000, "101-1000"),
    (1001, math.inf, ">1000"),
)
DECODE_BYTES = 64 * 2**20
METRICS = (
    "kl",
    "kl_reverse",
    "js",
    "entropy_model",
    "topk_overlap",
    "base_top1_rank",
    "base_top1_prob",
    "model_prob_of_base_top1",
    "tv",
    *(f"moved_to_{d}" for d in DESTINATIONS),
)


@dataclass
class VocabClasses:
    """Token classes that removed mass can move to (masks over the model's vocabulary)."""

    eos_id: int | None
    refusal: Bool[Tensor, " d_vocab"]
    malformed: Bool[Tensor, " d_vocab"]

    def to(self, device: str | torch.device) -> VocabClasses:
        return VocabClasses(self.eos_id, self.refusal.to(device), self.malformed.to(device))


def refusal_token_ids(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """First tokens of refusal words, with and without a leading space.

    A first token counts only if it is the whole word or a prefix of at least three letters:
    a tokenizer that splits "Sorry" into "S" + "orry" must not make every "S" a refusal.
    """
    found = set()
    for word in REFUSAL_WORDS:
        for text in (word, " " + word):
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            piece = tokenizer.decode(ids[:1]).strip() if ids else ""
            if piece and word.startswith(piece) and (piece == word or len(piece) >= 3):
                found.add(ids[0])
    return sorted(found)


def vocab_classes(tokenizer: PreTrainedTokenizerBase, d_vocab: int) -> VocabClasses:
    """Classify the vocabulary once: refusal-like, and malformed (fragments, specials, no letter or digit)."""
    eos_id = tokenizer.eos_token_id
    n_tokens = min(len(tokenizer), d_vocab)
    texts = tokenizer.batch_decode([[i] for i in range(n_tokens)])
    specials = set(tokenizer.all_special_ids) - {eos_id}
    flags = [
        token_id in specials or "\ufffd" in text or not any(ch.isalnum() for ch in text)
        for token_id, text in enumerate(texts)
    ]
    malformed = torch.ones(d_vocab, dtype=torch.bool)  # ids past the tokenizer are unused rows
    malformed[:n_tokens] = torch.tensor(flags, dtype=torch.bool)
    refusal = torch.zeros(d_vocab, dtype=torch.bool)
    refusal[refusal_token_ids(tokenizer)] = True
    if eos_id is not None:
        malformed[eos_id] = refusal[eos_id] = False
    return VocabClasses(eos_id, refusal & ~malformed, malformed)


def _kl(
    p: Float[Tensor, "n v"], log_p: Tensor | float, log_q: Float[Tensor, "n v"]
) -> Float[Tensor, " n"]:
    """KL(p || q) = sum p (log p - log q), with 0 log 0 = 0."""
    return torch.where(p > 0, p * (log_p - log_q), 0.0).sum(-1).clamp_min(0.0)


def entropy(log_probs: Float[Tensor, "n d_vocab"]) -> Float[Tensor, " n"]:
    """Shannon entropy in nats."""
    return -torch.where(log_probs > -math.inf, log_probs.exp() * log_probs, 0.0).sum(-1)


def shift_stats(
    base_lp: Float[Tensor, "n d_vocab"],
    model_lp: Float[Tensor, "n d_vocab"],
    classes: VocabClasses,
    top_k: int,
) -> dict[str, Tensor]:
    """Every shift metric of each row (one answer position): base log-probs vs model log-probs."""
    p, q = base_lp.exp(), model_lp.exp()
    # log m - log p and log m - log q, written so that p == q gives exactly 0
    log_ratio = model_lp - base_lp
    m_over_p = torch.logaddexp(torch.zeros_like(log_ratio), log_ratio) - math.log(2.0)
    m_over_q = torch.logaddexp(torch.zeros_like(log_ratio), -log_ratio) - math.log(2.0)
    base_top = base_lp.topk(top_k, dim=-1).indices
    model_top = model_lp.topk(top_k, dim=-1).indices
    top1 = base_top[:, :1]
    stats = {
        "kl": _kl(p, base_lp, model_lp),
        "kl_reverse": _kl(q, model_lp, base_lp),
        "js": (0.5 * _kl(p, 0.0, m_over_p) + 0.5 * _kl(q, 0.0, m_over_q)).clamp(0.0, math.log(2.0)),
        "entropy_model": entropy(model_lp),
        "topk_overlap": (base_top[:, :, None] == model_top[:, None, :]).any(-1).float().mean(-1),
        "base_top1_rank": (model_lp > model_lp.gather(1, top1)).sum(-1) + 1,
        "base_top1_prob": p.gather(1, top1)[:, 0],
        "model_prob_of_base_top1": q.gather(1, top1)[:, 0],
    }
    gain = (q - p).clamp_min(0.0)
    stats["tv"] = gain.sum(-1)
    stats["moved_to_vanilla_top1"] = gain.gather(1, top1)[:, 0]
    stats["moved_to_vanilla_candidates"] = gain.gather(1, base_top[:, 1:]).sum(-1)
    rest = gain.scatter(1, base_top, 0.0)
    if classes.eos_id is not None:
        stats["moved_to_eos"] = rest[:, classes.eos_id].clone()
        rest[:, classes.eos_id] = 0.0
    else:
        stats["moved_to_eos"] = torch.zeros_like(stats["tv"])
    stats["moved_to_refusal"] = (rest * classes.refusal).sum(-1)
    stats["moved_to_malformed"] = (rest * (classes.malformed & ~classes.refusal)).sum(-1)
    stats["moved_to_unrelated"] = (rest * ~(classes.malformed | classes.refusal)).sum(-1)
    return stats


def answer_log_probs(model: TransformerBridge, batch: PromptBatch) -> Float[Tensor, "n d_vocab"]:
    """The model's next-token log-probabilities at every answer position of the batch."""
    kwargs, columns = answer_logits_kwargs(model, batch)
    return model(batch.tokens, **kwargs)[batch.rows, columns].float().log_softmax(-1)


def _model_shift(
    base_lp: Float[Tensor, "n d_vocab"],
    model_lp: Float[Tensor, "n d_vocab"],
    classes: VocabClasses,
    top_k: int,
) -> dict[str, Tensor]:
    """shift_stats in row chunks (the temporaries are several copies of n x vocab)."""
    chunk = max(1, DECODE_BYTES // (4 * base_lp.shape[-1]))
    parts = [
        shift_stats(base_lp[b : b + chunk], model_lp[b : b + chunk], classes, top_k)
        for b in range(0, base_lp.shape[0], chunk)
    ]
    return {key: torch.cat([part[key] for part in parts]).cpu() for key in parts[0]}


def _item_record(stats: dict[str, Tensor], rows: slice, model_top1: list[str]) -> dict:
    record: dict = {}
    for key in METRICS:
        values = stats[key][rows].tolist()
        record[key] = (
            [int(v) for v in values]
            if key == "base_top1_rank"
            else [json_number(v) for v in values]
        )
    record["model_top1_token"] = model_top1
    return record


def run_shift(
    base: TransformerBridge,
    models: dict[str, TransformerBridge],
    prompts: list[AnalysisPrompt],
    classes: VocabClasses,
    top_k: int = 10,
    batch_size: int = 8,
    progress: bool = True,
) -> list[dict]:
    """Per-prompt shift of each model against the base, in prompt order."""
    for model in (base, *models.values()):
        require_fit(model, prompts)
    tokenizer = base.tokenizer
    device = next(base.parameters()).device  # the embedding's device, also under a device_map
    classes = classes.to(device)
    results: list[dict] = [{} for _ in prompts]
    batches = iter_batches(prompts, batch_size, tokenizer.pad_token_id or 0, device)
    total = math.ceil(len(prompts) / batch_size)
    with torch.inference_mode():
        for indices, batch in tqdm(
            batches, total=total, desc="distribution shift", disable=not progress
        ):
            base_lp = answer_log_probs(base, batch)
            base_top1 = tokenizer.batch_decode(base_lp.argmax(-1)[:, None].tolist())
            base_entropy = entropy(base_lp).cpu().tolist()
            per_model = {}
            for label, model in models.items():
                model_lp = answer_log_probs(model, batch)
                per_model[label] = (
                    _model_shift(base_lp, model_lp, classes, top_k),
                    tokenizer.batch_decode(model_lp.argmax(-1)[:, None].tolist()),
                )
            for position, index in enumerate(indices):
                rows = batch.span(position)
                results[index] = {
                    "base_top1_token": base_top1[rows],
                    "base_entropy": [json_number(v) for v in base_entropy[rows]],
                    "models": {
                        label: _item_record(stats, rows, top1[rows])
                        for label, (stats, top1) in per_model.items()
                    },
                }
    return results


def _rank_buckets(ranks: list[int]) -> dict[str, float]:
    ranks_array = np.asarray(ranks)
    return {
        name: json_number(np.mean((ranks_array >= low) & (ranks_array <= high)))
        for low, high, name in RANK_BUCKETS
    }


def summarise_shift(per_prompt: list[dict], label: str) -> dict:
    """Means over all answer positions of one model, rank buckets, and moved mass by destination."""
    pooled = {
        key: [v for item in per_prompt for v in item["models"][label][key]] for key in METRICS
    }
    means = {
        key: json_number(np.mean(values))
        for key, values in pooled.items()
        if key != "base_top1_rank"
    }
    means["entropy_base"] = json_number(
        np.mean([v for item in per_prompt for v in item["base_entropy"]])
    )
    means["entropy_change"] = json_number(means["entropy_model"] - means["entropy_base"])
    total_moved = float(np.sum(pooled["tv"]))
    moved = {
        d: json_number(np.sum(pooled[f"moved_to_{d}"]) / total_moved) if total_moved > 0 else 0.0
        for d in DESTINATIONS
    }
    ranks = pooled["base_top1_rank"]
    return {
        "mean": means,
        "base_top1_kept_rate": json_number(np.mean(np.asarray(ranks) == 1)),
        "base_top1_rank_median": json_number(np.median(ranks)),
        "base_top1_rank_buckets": _rank_buckets(ranks),
        "moved_fraction": moved,
        "n_positions": len(ranks),
    }


def distribution_shift(
    base: TransformerBridge,
    models: dict[str, TransformerBridge],
    records: list[QARecord],
    base_label: str = "vanilla",
    top_k: int = 10,
    batch_size: int = 8,
    progress: bool = True,
) -> dict:
    """Shift of each model (label -> model) against `base` over `records`: meta, values and items."""
    if not models:
        raise UserError("give at least one checkpoint to compare with the base")
    if base_label in models:
        raise UserError(
            f"the label {base_label!r} names both the base and a compared checkpoint; rename one"
        )
    require_same_tokenizer({base_label: base, **models})
    prompts = build_prompts(base.tokenizer, records)
    classes = vocab_classes(base.tokenizer, base.cfg.d_vocab)
    per_prompt = run_shift(base, models, prompts, classes, top_k, batch_size, progress)
    decode = base.tokenizer.decode
    items = [
        {
            "id": p.id,
            "question": p.question,
            "answer": p.answer,
            "answer_tokens": [decode([t]) for t in p.answer_ids],
            **result,
        }
        for p, result in zip(prompts, per_prompt, strict=True)
    ]
    entropy_base = [v for item in per_prompt for v in item["base_entropy"]]
    meta = {
        "analysis": "distribution_shift",
        "base": {base_label: getattr(base, "checkpoint", base_label)},
        "models": {label: getattr(model, "checkpoint", label) for label, model in models.items()},
        "data_hash": hash_json([r.to_json() for r in records]),
        "n_prompts": len(prompts),
        "top_k": top_k,
        "units": "nats (KL, JS, entropy); JS is at most ln 2",
        "destinations": list(DESTINATIONS),
        "refusal_tokens": [decode([t]) for t in torch.nonzero(classes.refusal).flatten().tolist()],
        "malformed_token_count": int(classes.malformed.sum()),
        "precision": {
            label: model_precision(model) for label, model in {base_label: base, **models}.items()
        },
        "backend": {
            "shift": SHIFT_BACKEND,
            "js": "Jensen-Shannon divergence with mixture m = (p + q) / 2",
        },
        "versions": versions(),
    }
    values = {
        "base_label": base_label,
        "base": {
            "entropy_mean": json_number(np.mean(entropy_base)),
            "n_positions": len(entropy_base),
        },
        "models": {label: summarise_shift(per_prompt, label) for label in models},
    }
    return {"meta": meta, "values": values, "items": items}
